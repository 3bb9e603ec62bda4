import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FutureStats } from "../../src/executor/future_stats.ts";
import { histogramSvg, timelineSvg, writePlots } from "../../src/executor/plot.ts";

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/**
 * A strict parser for the XML subset SVG files use: one root element,
 * balanced tags, quoted attributes without duplicates, and only the five
 * predefined or numeric entities. Throws on anything else.
 */
function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed XML at ${i}: ${why} near ${JSON.stringify(src.slice(i, i + 30))}`);
  };
  const text = (s: string) => {
    if (/[<]/.test(s)) fail("raw < in text");
    const bad = s.match(/&(?!(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);)/);
    if (bad) fail("bare &");
    return s;
  };
  if (src.startsWith("<?xml")) {
    i = src.indexOf("?>") + 2;
    if (i < 2) fail("unterminated declaration");
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < src.length) {
    const lt = src.indexOf("<", i);
    const chunk = src.slice(i, lt < 0 ? src.length : lt);
    if (stack.length === 0 && chunk.trim() !== "") fail("text outside the root");
    if (stack.length > 0) stack[stack.length - 1].text += text(chunk);
    if (lt < 0) break;
    i = lt;
    const close = /^<\/([A-Za-z][\w:.-]*)\s*>/.exec(src.slice(i));
    if (close) {
      const open = stack.pop();
      if (open?.name !== close[1]) fail(`</${close[1]}> closes <${open?.name}>`);
      i += close[0].length;
      continue;
    }
    const tag = /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(src.slice(i));
    if (!tag) fail("malformed tag");
    const el: XmlElement = { name: tag![1], attrs: {}, children: [], text: "" };
    for (const a of tag![2].matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      if (a[1] in el.attrs) fail(`duplicate attribute ${a[1]}`);
      el.attrs[a[1]] = text(a[2] ?? a[3]);
    }
    if (stack.length > 0) stack[stack.length - 1].children.push(el);
    else if (root) fail("second root element");
    else root = el;
    if (tag![3] !== "/") stack.push(el);
    i += tag![0].length;
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1].name}> is not closed`);
  if (!root) fail("no root element");
  return root!;
}

function all(el: XmlElement, pred: (e: XmlElement) => boolean, out: XmlElement[] = []): XmlElement[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) all(c, pred, out);
  return out;
}
const byClass = (root: XmlElement, cls: string) => all(root, (e) => e.attrs.class === cls);

const T0 = 1_700_000_000_000;
/** Calls whose worker start times are deliberately out of input order. */
function sampleStats(): FutureStats[] {
  const starts = [40, 0, 25, 10, 5];
  return starts.map((s, i) => ({
    hostSubmitTime: T0,
    workerStartTime: T0 + s,
    functionStartTime: T0 + s + 2,
    functionEndTime: T0 + s + 10 + i * 20,
    workerEndTime: T0 + s + 12 + i * 20,
    hostResultTime: T0 + s + 15 + i * 20,
    workerId: `w${i % 2}`,
    attempts: 1,
  }));
}

describe("execution plots", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "skypool-plot-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("writePlots writes both SVGs under the prefix and returns their paths", async () => {
    const paths = await writePlots(sampleStats(), join(dir, "sub", "run"));
    assert.deepEqual(paths, [join(dir, "sub", "run_timeline.svg"), join(dir, "sub", "run_histogram.svg")]);
    for (const p of paths) assert.equal(parseXml(await readFile(p, "utf8")).name, "svg");
  });

  test("the timeline has one bar per call, sorted by worker start, each with its function time inside", () => {
    const stats = sampleStats();
    const svg = parseXml(timelineSvg(stats));
    const bars = byClass(svg, "call");
    assert.equal(bars.length, stats.length);
    // Sorted by start: input indices in the order of their worker start times (0, 5, 10, 25, 40).
    assert.deepEqual(bars.map((b) => Number(b.attrs["data-call"])), [1, 4, 3, 2, 0]);
    // Later starts sit further right; the longest-running call (index 4) is the widest bar.
    const xs = bars.map((b) => Number(b.attrs.x));
    assert.deepEqual([...xs].sort((a, b) => a - b), xs);
    const widest = bars.reduce((a, b) => (Number(b.attrs.width) > Number(a.attrs.width) ? b : a));
    assert.equal(widest.attrs["data-call"], "4");
    const fns = byClass(svg, "fn");
    assert.equal(fns.length, stats.length);
    for (const fn of fns) {
      const bar = bars.find((b) => b.attrs["data-call"] === fn.attrs["data-call"])!;
      assert.ok(Number(fn.attrs.x) >= Number(bar.attrs.x));
      assert.ok(Number(fn.attrs.x) + Number(fn.attrs.width) <= Number(bar.attrs.x) + Number(bar.attrs.width) + 0.01);
    }
  });

  test("both plots have labelled axes with ticks", () => {
    for (const svg of [parseXml(timelineSvg(sampleStats())), parseXml(histogramSvg(sampleStats()))]) {
      for (const cls of ["title", "x-label", "y-label"]) assert.ok(byClass(svg, cls)[0]?.text.length > 0, `${cls} present`);
      for (const cls of ["x-ticks", "y-ticks"]) {
        const ticks = byClass(svg, cls)[0].children.map((t) => Number(t.text));
        assert.ok(ticks.length >= 2, `${cls} has ticks`);
        assert.deepEqual([...ticks].sort((a, b) => a - b), ticks);
      }
    }
    const tl = parseXml(timelineSvg(sampleStats()));
    // The last x tick covers the latest worker end: 0.097 s after the first submit (call 4: 5 + 12 + 80 ms).
    assert.ok(Math.max(...byClass(tl, "x-ticks")[0].children.map((t) => Number(t.text))) >= 0.097);
  });

  test("the histogram counts every drawn call once", () => {
    const stats = sampleStats();
    const svg = parseXml(histogramSvg(stats));
    const bins = byClass(svg, "bin");
    assert.equal(bins.length, Math.ceil(Math.sqrt(stats.length)));
    assert.equal(bins.reduce((n, b) => n + Number(b.attrs["data-count"]), 0), stats.length);
  });

  test("calls without worker times are counted in a note and not drawn", () => {
    const stats: FutureStats[] = [...sampleStats(), { hostSubmitTime: T0, attempts: 1 }, { hostSubmitTime: T0, workerStartTime: T0 + 3, attempts: 2 }];
    for (const svg of [parseXml(timelineSvg(stats)), parseXml(histogramSvg(stats))]) {
      assert.equal(byClass(svg, "note")[0].text, "2 of 7 calls have no worker start/end time and are not drawn");
    }
    assert.equal(byClass(parseXml(timelineSvg(stats)), "call").length, 5);
    assert.equal(byClass(parseXml(histogramSvg(stats)), "bin").reduce((n, b) => n + Number(b.attrs["data-count"]), 0), 5);
  });

  test("no calls still gives two well-formed, empty plots", () => {
    assert.equal(byClass(parseXml(timelineSvg([])), "call").length, 0);
    assert.equal(byClass(parseXml(histogramSvg([])), "bin").reduce((n, b) => n + Number(b.attrs["data-count"]), 0), 0);
  });

  test("text that looks like markup is escaped", () => {
    const stats = sampleStats().map((s) => ({ ...s, workerId: `<w&"1">` }));
    const bars = byClass(parseXml(timelineSvg(stats)), "call");
    assert.match(bars[0].children[0].text, /worker &#60;w&#38;&#34;1&#34;&#62;/);
  });

  test("bad arguments are refused naming them", async () => {
    await assert.rejects(writePlots("x" as never, join(dir, "a")), /^TypeError: writePlots: stats must be an array, got string$/);
    await assert.rejects(writePlots([null as never], join(dir, "a")), /stats\[0\] must be a stats object/);
    await assert.rejects(writePlots([], ""), /dst must be a non-empty path prefix/);
  });

  test("the checker used here rejects malformed XML", () => {
    assert.throws(() => parseXml("<svg><g></svg>"), /closes/);
    assert.throws(() => parseXml(`<svg a="1" a="2"/>`), /duplicate attribute/);
    assert.throws(() => parseXml("<svg>a & b</svg>"), /bare &/);
    assert.throws(() => parseXml("<svg><g>"), /not closed/);
  });
});
