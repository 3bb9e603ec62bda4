/**
 * The pieces of a hand-written SVG chart shared by the timeline and the
 * histogram: a plot area with labelled, ticked axes mapping data to pixels.
 *
 * @module
 */

/** Text made safe for XML content and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * About `count` round tick values (steps of 1, 2 or 5 × 10^k, at least 1
 * when `integer`) covering `[0, max]`; the last tick is at or past `max`.
 *
 * @example
 * ```ts
 * import { niceTicks } from "./src/executor/svg_chart.ts";
 * console.assert(niceTicks(0.97).join() === "0,0.2,0.4,0.6,0.8,1");
 * console.assert(niceTicks(3, { integer: true }).join() === "0,1,2,3");
 * ```
 */
export function niceTicks(max: number, { count = 6, integer = false } = {}): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const step = integer ? Math.max(1, Math.round(nice)) : nice;
  const ticks: number[] = [];
  for (let i = 0; ticks.length === 0 || ticks[ticks.length - 1] < max; i++) ticks.push(round(i * step, step));
  return ticks;
}

// Keeps 0.1 + 0.2 from printing as 0.30000000000000004.
function round(v: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return Number(v.toFixed(decimals));
}

/** Where the plot area sits in the picture. */
const MARGIN = { left: 70, right: 20, top: 40, bottom: 55 };

/** A chart's frame: size, axis ranges and labels. */
export interface ChartFrame {
  width: number;
  height: number;
  title: string;
  xLabel: string;
  yLabel: string;
  /** Tick values of the x axis (from 0; the last one is the axis end). */
  xTicks: number[];
  /** Tick values of the y axis (from 0), or labels drawn at given values. */
  yTicks: number[];
}

/** Maps data to pixels inside a {@link ChartFrame}. */
export class Chart {
  readonly frame: ChartFrame;
  readonly #parts: string[] = [];

  constructor(frame: ChartFrame) {
    this.frame = frame;
  }

  get left(): number {
    return MARGIN.left;
  }
  get right(): number {
    return this.frame.width - MARGIN.right;
  }
  get top(): number {
    return MARGIN.top;
  }
  get bottom(): number {
    return this.frame.height - MARGIN.bottom;
  }

  /** Pixel x of data value `v`. */
  x(v: number): number {
    const max = this.frame.xTicks[this.frame.xTicks.length - 1];
    return this.left + (v / max) * (this.right - this.left);
  }

  /** Pixel y of data value `v` (0 at the bottom). */
  y(v: number): number {
    const max = this.frame.yTicks[this.frame.yTicks.length - 1];
    return this.bottom - (v / max) * (this.bottom - this.top);
  }

  /** Adds raw SVG markup (already escaped) to the plot. */
  add(markup: string): void {
    this.#parts.push(markup);
  }

  /** The whole SVG document: title, axes with ticks and labels, then what was added. */
  render(): string {
    const { width, height, title, xLabel, yLabel, xTicks, yTicks } = this.frame;
    const f = (n: number) => Number(n.toFixed(2));
    const out: string[] = [
      `<?xml version="1.0" encoding="UTF-8"?>`,
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
      `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
      `<text class="title" x="${f(width / 2)}" y="22" text-anchor="middle" font-size="15">${xmlEscape(title)}</text>`,
      `<g class="x-axis" stroke="#444">`,
      `<line x1="${this.left}" y1="${f(this.bottom)}" x2="${f(this.right)}" y2="${f(this.bottom)}"/>`,
      ...xTicks.map((t) => `<line x1="${f(this.x(t))}" y1="${f(this.bottom)}" x2="${f(this.x(t))}" y2="${f(this.bottom + 5)}"/>`),
      `</g>`,
      `<g class="x-ticks" text-anchor="middle" fill="#222">`,
      ...xTicks.map((t) => `<text x="${f(this.x(t))}" y="${f(this.bottom + 18)}">${t}</text>`),
      `</g>`,
      `<text class="x-label" x="${f((this.left + this.right) / 2)}" y="${f(height - 12)}" text-anchor="middle">${xmlEscape(xLabel)}</text>`,
      `<g class="y-axis" stroke="#444">`,
      `<line x1="${this.left}" y1="${this.top}" x2="${this.left}" y2="${f(this.bottom)}"/>`,
      ...yTicks.map((t) => `<line x1="${this.left - 5}" y1="${f(this.y(t))}" x2="${this.left}" y2="${f(this.y(t))}"/>`),
      `</g>`,
      `<g class="y-ticks" text-anchor="end" fill="#222">`,
      ...yTicks.map((t) => `<text x="${this.left - 8}" y="${f(this.y(t) + 4)}">${t}</text>`),
      `</g>`,
      `<text class="y-label" transform="translate(16 ${f((this.top + this.bottom) / 2)}) rotate(-90)" text-anchor="middle">${xmlEscape(yLabel)}</text>`,
      ...this.#parts,
      `</svg>`,
      ``,
    ];
    return out.join("\n");
  }
}
