/**
 * The execution plots of the futures API, as hand-written SVG (no native
 * dependencies): a timeline with one bar per call and a histogram of call
 * durations.
 *
 * A call is drawn when it has both a worker start and a worker end time
 * (the span the bar shows); calls without them (never run, or lost) are
 * left out of both pictures and counted in a note on each, so a partial
 * run still plots and nothing is left out silently.
 *
 * @module
 */
import { fsPromises, nodePath } from "../runtime/builtins.ts";
import type { FutureStats } from "./future_stats.ts";
import { Chart, niceTicks, xmlEscape } from "./svg_chart.ts";

const WIDTH = 900;
const HISTOGRAM_HEIGHT = 420;
const WORKER_COLOR = "#9ecae1";
const FUNCTION_COLOR = "#08519c";

interface Drawn {
  /** Index in the input. */
  index: number;
  s: FutureStats & { workerStartTime: number; workerEndTime: number };
}

function drawable(stats: FutureStats[]): Drawn[] {
  const out: Drawn[] = [];
  stats.forEach((s, index) => {
    if (Number.isFinite(s.workerStartTime) && Number.isFinite(s.workerEndTime) && s.workerEndTime! >= s.workerStartTime!) {
      out.push({ index, s: s as Drawn["s"] });
    }
  });
  return out.sort((a, b) => a.s.workerStartTime - b.s.workerStartTime || a.index - b.index);
}

function skippedNote(chart: Chart, skipped: number, total: number): void {
  if (skipped === 0) return;
  chart.add(`<text class="note" x="${chart.right}" y="${chart.top - 6}" text-anchor="end" fill="#a50f15">` +
    `${skipped} of ${total} calls have no worker start/end time and are not drawn</text>`);
}

const ms = (v: number) => `${Number(v.toFixed(1))} ms`;

/**
 * The timeline SVG: one horizontal bar per call from its worker start to its
 * worker end, the function's own time marked darker inside it, calls
 * sorted by start, time in seconds since the first submit.
 */
export function timelineSvg(stats: FutureStats[]): string {
  const calls = drawable(stats);
  const t0 = Math.min(...calls.map((c) => Math.min(c.s.workerStartTime, Number.isFinite(c.s.hostSubmitTime) ? c.s.hostSubmitTime : Infinity)));
  const sec = (t: number) => (t - t0) / 1000;
  const end = calls.length === 0 ? 0 : Math.max(...calls.map((c) => sec(c.s.workerEndTime)));
  const height = Math.min(2000, Math.max(300, 95 + calls.length * 14));
  const chart = new Chart({
    width: WIDTH,
    height,
    title: `Execution timeline (${calls.length} calls)`,
    xLabel: "time since first submit (s)",
    yLabel: "call (sorted by worker start)",
    xTicks: niceTicks(end),
    yTicks: niceTicks(calls.length, { integer: true }),
  });
  const f = (n: number) => Number(n.toFixed(2));
  chart.add(`<g class="calls">`);
  calls.forEach((c, row) => {
    const y = chart.y(row + 1);
    const h = Math.max(0.5, (chart.y(row) - y) * 0.8);
    const x1 = chart.x(sec(c.s.workerStartTime));
    const x2 = chart.x(sec(c.s.workerEndTime));
    const { functionStartTime: fs, functionEndTime: fe } = c.s;
    const hasFn = Number.isFinite(fs) && Number.isFinite(fe) && fe! >= fs!;
    const tip = `call ${c.index}: worker ${ms(c.s.workerEndTime - c.s.workerStartTime)}` +
      (hasFn ? `, function ${ms(fe! - fs!)}` : "") + (c.s.workerId !== undefined ? `, worker ${c.s.workerId}` : "") +
      (c.s.attempts > 1 ? `, ${c.s.attempts} attempts` : "");
    chart.add(`<rect class="call" data-call="${c.index}" x="${f(x1)}" y="${f(y)}" width="${f(Math.max(0.5, x2 - x1))}" height="${f(h)}" fill="${WORKER_COLOR}"><title>${xmlEscape(tip)}</title></rect>`);
    if (hasFn) {
      const fx1 = chart.x(sec(fs!));
      chart.add(`<rect class="fn" data-call="${c.index}" x="${f(fx1)}" y="${f(y + h * 0.25)}" width="${f(Math.max(0.5, chart.x(sec(fe!)) - fx1))}" height="${f(h * 0.5)}" fill="${FUNCTION_COLOR}"/>`);
    }
  });
  chart.add(`</g>`);
  chart.add(`<g class="legend" font-size="11">` +
    `<rect x="${chart.left + 8}" y="${chart.top - 14}" width="14" height="8" fill="${WORKER_COLOR}"/>` +
    `<text x="${chart.left + 26}" y="${chart.top - 7}">worker start to end</text>` +
    `<rect x="${chart.left + 150}" y="${chart.top - 14}" width="14" height="8" fill="${FUNCTION_COLOR}"/>` +
    `<text x="${chart.left + 168}" y="${chart.top - 7}">function</text></g>`);
  skippedNote(chart, stats.length - calls.length, stats.length);
  return chart.render();
}

/**
 * The histogram SVG of call durations (worker start to end, in ms).
 *
 * @example
 * ```ts
 * import { histogramSvg } from "./src/executor/plot.ts";
 * const svg = histogramSvg([{ hostSubmitTime: 0, workerStartTime: 5, workerEndTime: 40, attempts: 1 }]);
 * console.assert(svg.includes('data-count="1"'));
 * ```
 */
export function histogramSvg(stats: FutureStats[]): string {
  const calls = drawable(stats);
  const durations = calls.map((c) => c.s.workerEndTime - c.s.workerStartTime);
  const bins = Math.min(30, Math.max(1, Math.ceil(Math.sqrt(durations.length))));
  const longest = Math.max(0, ...durations);
  const xTicks = niceTicks(longest);
  const width = xTicks[xTicks.length - 1] / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const d of durations) counts[Math.min(bins - 1, Math.floor(d / width))]++;
  const chart = new Chart({
    width: WIDTH,
    height: HISTOGRAM_HEIGHT,
    title: `Call durations (${durations.length} calls)`,
    xLabel: "call duration, worker start to end (ms)",
    yLabel: "calls",
    xTicks,
    yTicks: niceTicks(Math.max(...counts), { integer: true }),
  });
  const f = (n: number) => Number(n.toFixed(2));
  chart.add(`<g class="bins" fill="${WORKER_COLOR}" stroke="${FUNCTION_COLOR}">`);
  counts.forEach((n, i) => {
    const x1 = chart.x(i * width);
    const y = chart.y(n);
    chart.add(`<rect class="bin" data-count="${n}" x="${f(x1)}" y="${f(y)}" width="${f(chart.x((i + 1) * width) - x1)}" height="${f(chart.bottom - y)}">` +
      `<title>${xmlEscape(`${ms(i * width)} to ${ms((i + 1) * width)}: ${n} calls`)}</title></rect>`);
  });
  chart.add(`</g>`);
  skippedNote(chart, stats.length - calls.length, stats.length);
  return chart.render();
}

/**
 * Writes `${dst}_timeline.svg` and `${dst}_histogram.svg` for the given
 * calls' stats (creating the folder) and returns their absolute paths.
 * Calls without worker start and end times are counted in a note and not
 * drawn.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { writePlots } from "./src/executor/plot.ts";
 * const t = Date.now();
 * const stats = [0, 1, 2].map((i) => ({
 *   hostSubmitTime: t, workerStartTime: t + i * 10, functionStartTime: t + i * 10 + 1,
 *   functionEndTime: t + i * 10 + 8, workerEndTime: t + i * 10 + 9, attempts: 1,
 * }));
 * const [timeline, histogram] = await writePlots(stats, join(mkdtempSync(join(tmpdir(), "plots-")), "run"));
 * console.assert(timeline.endsWith("run_timeline.svg") && histogram.endsWith("run_histogram.svg"));
 * ```
 * @throws {TypeError} if `stats` is not an array of objects or `dst` is not a non-empty string.
 */
export async function writePlots(stats: FutureStats[], dst: string): Promise<string[]> {
  if (!Array.isArray(stats)) throw new TypeError(`writePlots: stats must be an array, got ${stats === null ? "null" : typeof stats}`);
  const bad = stats.findIndex((s) => s === null || typeof s !== "object");
  if (bad >= 0) throw new TypeError(`writePlots: stats[${bad}] must be a stats object`);
  if (typeof dst !== "string" || dst === "") throw new TypeError(`writePlots: dst must be a non-empty path prefix, got ${JSON.stringify(dst)}`);
  const timeline = nodePath().resolve(`${dst}_timeline.svg`);
  const histogram = nodePath().resolve(`${dst}_histogram.svg`);
  const { mkdir, writeFile } = fsPromises();
  await mkdir(nodePath().dirname(timeline), { recursive: true });
  await Promise.all([writeFile(timeline, timelineSvg(stats)), writeFile(histogram, histogramSvg(stats))]);
  return [timeline, histogram];
}
