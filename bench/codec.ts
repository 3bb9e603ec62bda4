// `npm run bench -- codec`: skypool's codec against JSON, msgpackr,
// v8.serialize and plain cbor-x, and the WebAssembly framing and newline
// scan against memcpy. Run compiled, on Node, by bench/run.mjs
// (`node npm/build/bench/codec.js`); `deno run -A bench/codec.ts` works too.
//
// Method: every case runs in a process of its own (so one case's data and
// garbage do not slow another's) and is timed for every implementation in
// rounds, the order rotating each round so the machine's noise falls on all
// alike; a round runs each implementation for about SAMPLE_MS (after a
// first warm-up, then before each sample a short one and a full GC), and the
// figure is the median over rounds. Throughput is the case's *payload* size
// over time — the same number of bytes for every implementation of a case
// (the JSON text of the value for objects and strings, the byte length for
// binary data), so MB/s compare times directly and no format is rewarded or
// punished for its output size. 1 MB = 10^6 bytes. An operation that does
// not process its payload (a decoder whose result is a view of its input,
// found by checking the result; a scan that reads only near each cut) is
// reported in ns/op instead: MB/s of bytes it never touched would mean
// nothing. Each row also gives its spread: the MB/s of its slow (p90) and
// fast (p10) rounds. The memcpy floor copies into a destination allocated
// once, so that it measures the copy, not page faults.
//
// `bash scripts/bench_all.sh codec` reruns it three times, fresh, and
// summarises the runs (median and spread of every figure).
//
// Writes bench/results/codec.md and bench/results/codec.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, type as osType } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Buffer } from "node:buffer";
import v8 from "node:v8";
import { Decoder as CborDecoder, Encoder as CborEncoder } from "npm:cbor-x@^1.6.9/encode";
import { Packr } from "npm:msgpackr@^1.11.5";
import { decode, encode } from "../src/task/codec.ts";
import { packFrames, unpackFrames } from "../src/task/frames.ts";
import { newlineSplits } from "../src/task/newline_scan.ts";
import { median, repoRoot } from "./lib/bench_support.ts";

// Many short rounds rather than a few long ones: on a shared machine, load
// comes in bursts, and short interleaved samples spread them over all
// implementations.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 40);
const WARMUP_MS = 300;
const WARM_MS = 10;

// ---------------------------------------------------------------------------
// Data.

/** 10 000 small objects: the rows of a typical table. */
function smallObjects(): unknown[] {
  return Array.from({ length: 10_000 }, (_, i) => ({
    id: i,
    name: `user-${i}`,
    email: `user${i}@example.com`,
    score: i * 0.37,
    active: i % 3 === 0,
    tags: ["alpha", i % 2 ? "beta" : "gamma"],
  }));
}

/** About 1 MiB of text, a few non-ASCII characters per line. */
function bigString(): string {
  const line = "The quick brown fox jumps over the lazy dog — naïve café, 12345.\n";
  return line.repeat(Math.ceil((1 << 20) / line.length)).slice(0, 1 << 20);
}

/** 64 MiB of newline-terminated lines of 40–120 bytes. */
function lines(): Uint8Array {
  const out = new Uint8Array(64 << 20);
  let x = 12345;
  let i = 0;
  while (i < out.length) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const len = 40 + (x >>> 25);
    const end = Math.min(out.length, i + len);
    out.fill(0x61 + (x & 15), i, end - 1);
    out[end - 1] = 0x0a;
    i = end;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Cases. Each builds its own data (`setup`), so a child process holds only
// the data of the case it times.

interface Impl {
  impl: string;
  fn: () => unknown;
  /**
   * Set when the operation does not process the payload (it returns views
   * of its input, or reads only a few bytes of it): MB/s of payload would
   * mean nothing, so the row reports ns/op and this label. Decoders get it
   * by checking their result (see `viewOf`).
   */
  noCopy?: string;
}
interface Case {
  name: string;
  what: string;
  setup: () => { payloadBytes: number; impls: Impl[] };
}

const cbor = new CborEncoder({ useRecords: false });
const cborDecoder = new CborDecoder({ useRecords: false });
const cborClone = new CborEncoder({ structuredClone: true, useRecords: false });
const packr = new Packr();

function objectsData() {
  const objects = smallObjects();
  const json = JSON.stringify(objects);
  const skypool = encode(objects);
  // Sanity: what is timed must round-trip.
  assertSame(JSON.stringify(decode(skypool)), json, "skypool objects");
  return { objects, json, payloadBytes: Buffer.byteLength(json), skypool };
}

function f64Data() {
  const f64 = new Float64Array(1 << 20).map((_, i) => i * 1.000001);
  const skypool = encode(f64);
  assertSame((decode(skypool) as Float64Array)[12345], f64[12345], "skypool f64");
  return { f64, bytes: new Uint8Array(f64.buffer), skypool };
}

function stringData() {
  const str = bigString();
  const skypool = encode(str);
  assertSame(decode(skypool), str, "skypool string");
  return { str, json: JSON.stringify(str), payloadBytes: Buffer.byteLength(str), skypool };
}

/** The plain-JavaScript way to the same splits as `newlineSplits`, for comparison. */
function indexOfSplits(bytes: Uint8Array, part: number): number[] {
  const out: number[] = [];
  let start = 0;
  while (bytes.length - start > part) {
    const nl = bytes.indexOf(0x0a, start + part - 1);
    if (nl < 0 || nl + 1 >= bytes.length) break;
    out.push(nl + 1);
    start = nl + 1;
  }
  return out;
}

/** The encoders every case compares (JSON only for text-shaped data). */
function encoders(value: unknown, withJson: boolean): Impl[] {
  return [
    { impl: "skypool", fn: () => encode(value) },
    ...(withJson ? [{ impl: "JSON", fn: () => JSON.stringify(value) }] : []),
    { impl: "msgpackr", fn: () => packr.pack(value) },
    { impl: "v8", fn: () => v8.serialize(value) },
    { impl: "cbor-x", fn: () => cbor.encode(value) },
  ];
}

const VIEWS = "views, no copy";

/** `impl`, marked {@link VIEWS} when its result is a view of `input`'s memory (checked once, by running it). */
function viewOf(impl: Impl, input: Uint8Array): Impl {
  const out = impl.fn();
  return ArrayBuffer.isView(out) && out.buffer === input.buffer ? { ...impl, noCopy: VIEWS } : impl;
}

/** The matching decoders, each over its own encoder's bytes, made once up front. */
function decoders(value: unknown, skypoolBytes: Uint8Array, json?: string): Impl[] {
  const m = packr.pack(value), s = v8.serialize(value), c = cbor.encode(value).slice();
  return [
    viewOf({ impl: "skypool", fn: () => decode(skypoolBytes) }, skypoolBytes),
    ...(json !== undefined ? [{ impl: "JSON", fn: () => JSON.parse(json) }] : []),
    viewOf({ impl: "msgpackr", fn: () => packr.unpack(m) }, m),
    viewOf({ impl: "v8", fn: () => v8.deserialize(s) }, s),
    viewOf({ impl: "cbor-x", fn: () => cborDecoder.decode(c) }, c),
  ];
}

/**
 * The memcpy floor: copying into a destination allocated (and touched)
 * once, so that the figure is the copy itself, not the page faults of a
 * fresh 8 MiB allocation each time, which made the allocating copy's rounds
 * range over 10× in one run.
 */
function warmCopy(bytes: Uint8Array): () => Uint8Array {
  const dst = new Uint8Array(bytes.length).fill(1);
  return () => {
    dst.set(bytes);
    return dst;
  };
}

const CASES: Case[] = [
  {
    name: "objects-encode",
    what: "10 000 small objects (6 fields, one 2-string array each)",
    setup: () => {
      const { objects, payloadBytes } = objectsData();
      return {
        payloadBytes,
        impls: [...encoders(objects, true), { impl: "cbor-x structuredClone", fn: () => cborClone.encode(objects) }],
      };
    },
  },
  {
    name: "objects-decode",
    what: "the same, decoded",
    setup: () => {
      const { objects, json, payloadBytes, skypool } = objectsData();
      const cc = cborClone.encode(objects).slice();
      return {
        payloadBytes,
        impls: [...decoders(objects, skypool, json), { impl: "cbor-x structuredClone", fn: () => cborClone.decode(cc) }],
      };
    },
  },
  {
    name: "f64-encode",
    what: "an 8 MiB Float64Array",
    setup: () => {
      const { f64, bytes } = f64Data();
      return {
        payloadBytes: f64.byteLength,
        impls: [...encoders(f64, false), { impl: "memcpy", fn: () => Buffer.from(bytes) }],
      };
    },
  },
  {
    name: "f64-decode",
    what: "the same, decoded (an implementation whose result is a view of its input does no copy: reported in ns/op)",
    setup: () => {
      const { f64, bytes, skypool } = f64Data();
      return {
        payloadBytes: f64.byteLength,
        impls: [...decoders(f64, skypool), { impl: "memcpy (warm)", fn: warmCopy(bytes) }],
      };
    },
  },
  {
    name: "f64-decode-misaligned",
    what: "the same message at an odd offset in a batch (the decoder must copy)",
    setup: () => {
      const { f64, bytes, skypool } = f64Data();
      const shifted = new Uint8Array(skypool.length + 1);
      shifted.set(skypool, 1);
      const msg = shifted.subarray(1);
      return {
        payloadBytes: f64.byteLength,
        impls: [
          { impl: "skypool", fn: () => decode(msg) },
          { impl: "memcpy (warm)", fn: warmCopy(bytes) },
        ],
      };
    },
  },
  {
    name: "string-encode",
    what: "a 1 MiB string (mostly ASCII)",
    setup: () => {
      const { str, payloadBytes } = stringData();
      return {
        payloadBytes,
        impls: encoders(str, true),
      };
    },
  },
  {
    name: "string-decode",
    what: "the same, decoded",
    setup: () => {
      const { str, json, payloadBytes, skypool } = stringData();
      return {
        payloadBytes,
        impls: decoders(str, skypool, json),
      };
    },
  },
  {
    name: "memcpy",
    what: "copying 8 MiB: into a destination allocated once (the floor for anything that copies), and into a new buffer each time",
    setup: () => {
      const { bytes } = f64Data();
      return {
        payloadBytes: bytes.byteLength,
        impls: [
          { impl: "memcpy (warm)", fn: warmCopy(bytes) },
          { impl: "memcpy Buffer.from", fn: () => Buffer.from(bytes) },
          { impl: "memcpy Uint8Array#slice", fn: () => Uint8Array.prototype.slice.call(bytes) },
        ],
      };
    },
  },
  {
    name: "frames-pack",
    what: "packFrames: 64 items of 128 KiB into one checksummed batch",
    setup: () => {
      const { bytes } = f64Data();
      const items = Array.from({ length: 64 }, (_, i) => bytes.subarray(i * 131072, (i + 1) * 131072));
      return {
        payloadBytes: bytes.byteLength,
        impls: [
          { impl: "skypool-wasm", fn: () => packFrames(items) },
          { impl: "memcpy", fn: () => Buffer.from(bytes) },
        ],
      };
    },
  },
  {
    name: "frames-unpack",
    what: "unpackFrames: verify both checksums, return views",
    setup: () => {
      const { bytes } = f64Data();
      const batch = packFrames(Array.from({ length: 64 }, (_, i) => bytes.subarray(i * 131072, (i + 1) * 131072)));
      return {
        payloadBytes: bytes.byteLength,
        impls: [
          { impl: "skypool-wasm", fn: () => unpackFrames(batch) },
          { impl: "memcpy", fn: () => Buffer.from(bytes) },
        ],
      };
    },
  },
  {
    name: "newline-scan",
    what: "newlineSplits over 64 MiB of text, 1 KiB parts (every byte is read)",
    setup: () => {
      const text = lines();
      assertSame(JSON.stringify(newlineSplits(text, 1024)), JSON.stringify(indexOfSplits(text, 1024)), "newline splits");
      return {
        payloadBytes: text.byteLength,
        impls: [
          { impl: "skypool-wasm", fn: () => newlineSplits(text, 1024) },
          { impl: "js-indexOf", fn: () => indexOfSplits(text, 1024) },
          { impl: "memcpy", fn: () => Buffer.from(text) },
        ],
      };
    },
  },
  {
    name: "newline-split-large-parts",
    what: "newlineSplits over 64 MiB of text, 1 MiB parts (only the bytes after each cut are read)",
    setup: () => {
      const text = lines();
      return {
        payloadBytes: text.byteLength,
        impls: [
          { impl: "skypool-wasm", fn: () => newlineSplits(text, 1 << 20), noCopy: "reads ~0.01% of the bytes" },
          { impl: "js-indexOf", fn: () => indexOfSplits(text, 1 << 20), noCopy: "reads ~0.01% of the bytes" },
        ],
      };
    },
  },
];

function assertSame(a: unknown, b: unknown, what: string): void {
  if (a !== b) throw new Error(`bench: ${what} does not round-trip`);
}

// ---------------------------------------------------------------------------
// Timing.

let sink: unknown;

/** Runs `fn` for about `ms`; returns seconds per call. */
/**
 * The clock: wall time, or with BENCH_CLOCK=cpu this process's CPU time
 * (all its threads, GC included), which other processes' load disturbs far
 * less on a shared machine.
 */
const CLOCK = process.env.BENCH_CLOCK === "cpu" ? "cpu" : "wall";
const now: () => number = CLOCK === "cpu"
  ? () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  : () => performance.now();

function sample(fn: () => unknown, ms: number): number {
  let n = 0;
  const t0 = now();
  let t = t0;
  do {
    sink = fn();
    n++;
    t = now();
  } while (t - t0 < ms);
  return (t - t0) / 1000 / n;
}

interface Row {
  case: string;
  impl: string;
  /** Payload MB/s at the median time per operation; `null` for an operation that does not process the payload (see `no_copy`). */
  mb_per_s: number | null;
  /** Median time per operation. */
  ms_per_op: number;
  /** Median time per operation in ns (the figure for `no_copy` rows). */
  ns_per_op: number;
  /** Payload MB/s of the fastest round (the least disturbed by other load); `null` as `mb_per_s`. */
  best_mb_per_s: number | null;
  /** Spread of the rounds: payload MB/s at the 90th and 10th percentile of round times (slow, fast); `null` as `mb_per_s`. */
  p10_p90_mb_per_s: [number, number] | null;
  /** Why MB/s is not reported ("views, no copy"…), when it is not. */
  no_copy?: string;
  /** Time per operation in each round, in round order (ms). */
  rounds_ms: number[];
}

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

/**
 * Times one case: rounds of every implementation, order rotating. Each
 * sample is preceded by a short warm-up of that implementation (the full
 * GCs age code, and V8 may drop a JavaScript implementation's optimized
 * code between its samples, which native JSON and v8 never suffer) and a
 * full GC (so one implementation's garbage is not collected on another's
 * time).
 */
function measure(c: Case): Row[] {
  const { payloadBytes, impls } = c.setup();
  const times = impls.map(() => [] as number[]);
  for (const i of impls) sample(i.fn, WARMUP_MS);
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < impls.length; j++) {
      const k = (j + round) % impls.length;
      sample(impls[k].fn, WARM_MS);
      gc?.();
      times[k].push(sample(impls[k].fn, SAMPLE_MS));
    }
  }
  const mbps = (seconds: number) => Math.round(payloadBytes / 1e6 / seconds * 10) / 10;
  return impls.map((i, k) => {
    const s = median(times[k]);
    const sorted = [...times[k]].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
    const copies = i.noCopy === undefined;
    return {
      case: c.name,
      impl: i.impl,
      mb_per_s: copies ? mbps(s) : null,
      ms_per_op: Math.round(s * 1e6) / 1000,
      ns_per_op: Math.round(s * 1e9 * 10) / 10,
      best_mb_per_s: copies ? mbps(sorted[0]) : null,
      p10_p90_mb_per_s: copies ? [mbps(at(0.9)), mbps(at(0.1))] : null,
      ...(copies ? {} : { no_copy: i.noCopy }),
      rounds_ms: times[k].map((t) => Math.round(t * 1e7) / 1e4),
    };
  });
}

const ROWS_PREFIX = "@@rows ";

/**
 * Every case in a process of its own (Node, with --expose-gc), so that one
 * case's data and garbage do not slow another's; on Deno, in this process.
 */
function measureAll(cases: Case[]): Row[] {
  if (typeof (globalThis as { Deno?: unknown }).Deno !== "undefined") return cases.flatMap(measure);
  const rows: Row[] = [];
  for (const c of cases) {
    process.stderr.write(`${c.name}…\n`);
    const r = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--case", c.name], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      env: process.env,
      maxBuffer: 16 << 20,
    });
    const line = r.stdout.split("\n").find((l) => l.startsWith(ROWS_PREFIX));
    if (r.status !== 0 || line === undefined) throw new Error(`bench: case ${c.name} failed (exit ${r.status})`);
    rows.push(...(JSON.parse(line.slice(ROWS_PREFIX.length)) as Row[]));
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Report.

function main(): void {
  const caseArg = process.argv.indexOf("--case");
  if (caseArg >= 0) {
    const c = CASES.find((x) => x.name === process.argv[caseArg + 1]);
    if (c === undefined) throw new Error(`bench: no case ${process.argv[caseArg + 1]}`);
    console.log(ROWS_PREFIX + JSON.stringify(measure(c)));
    return;
  }
  const root = repoRoot(import.meta.url);
  // BENCH_CASES=objects-encode,f64-encode runs a subset (and writes no results).
  const only = process.env.BENCH_CASES?.split(",").filter(Boolean);
  const all = CASES.filter((c) => only === undefined || only.includes(c.name));
  const before = loadavg();
  const rows = measureAll(all);
  void sink;
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores, ${osType()} ${release()}`;
  const runtime = typeof (globalThis as { Deno?: { version: { deno: string } } }).Deno !== "undefined"
    ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
    : `node ${process.version}`;
  const get = (c: string, i: string) => rows.find((r) => r.case === c && r.impl === i)?.mb_per_s ?? NaN;
  const floor = rows.find((r) => r.case === "memcpy" && r.impl === "memcpy (warm)");
  // memcpy as timed inside the f64-encode case: same process, same rounds, interleaved.
  const memcpy = get("f64-encode", "memcpy");
  /**
   * How many times faster `a` is than `b` in a case: the median over rounds
   * of b's time / a's time in the same round. Samples of one round are taken
   * back to back, so this paired ratio cancels most of the machine's load
   * drift, which the ratio of two medians does not.
   */
  const paired = (c: string, a: string, b: string): number => {
    const ra = rows.find((r) => r.case === c && r.impl === a)?.rounds_ms;
    const rb = rows.find((r) => r.case === c && r.impl === b)?.rounds_ms;
    if (!ra || !rb) return NaN;
    return Math.round(median(ra.map((t, i) => rb[i] / t)) * 100) / 100;
  };
  const vsJson = paired("objects-encode", "skypool", "JSON");
  const vsCbor = paired("objects-encode", "skypool", "cbor-x");
  const isDeno = runtime.startsWith("deno");
  const jsonTarget = isDeno ? 1 : 1.2;
  const vsMemcpy = paired("f64-encode", "skypool", "memcpy");
  const checks = [
    {
      criterion: `objects-encode: skypool ≥ ${jsonTarget === 1 ? "" : `${jsonTarget}× `}JSON`,
      pass: vsJson >= jsonTarget,
      detail: `skypool takes ${vsJson < 1 ? `${Math.round((1 / vsJson - 1) * 100)}% more` : `${Math.round((1 - 1 / vsJson) * 100)}% less`} time ` +
        `(median of paired rounds: ×${vsJson}); medians ${get("objects-encode", "skypool")} vs ${get("objects-encode", "JSON")} MB/s`,
    },
    {
      criterion: "objects-encode: skypool ≥ plain cbor-x",
      pass: vsCbor >= 1,
      detail: `×${vsCbor} (median of paired rounds); medians ${get("objects-encode", "skypool")} vs ${get("objects-encode", "cbor-x")} MB/s`,
    },
    {
      criterion: "f64-encode: skypool ≥ 50% of memcpy",
      pass: vsMemcpy >= 0.5,
      detail: `${Math.round(vsMemcpy * 100)}% of memcpy's speed (median of paired rounds); medians ${get("f64-encode", "skypool")} vs ${memcpy} MB/s`,
    },
    {
      criterion: "newline-scan: skypool-wasm ≥ 1000 MB/s",
      pass: get("newline-scan", "skypool-wasm") >= 1000,
      detail: `${get("newline-scan", "skypool-wasm")} MB/s`,
    },
  ];

  const md: string[] = [
    "# Codec benchmark",
    "",
    `Machine: ${machine}. Runtime: ${runtime}. Load average before: ${before.map((x) => x.toFixed(2)).join(", ")}; after: ${
      loadavg().map((x) => x.toFixed(2)).join(", ")
    }. Date: ${new Date().toISOString()}.`,
    "",
    `MB/s = payload bytes (the JSON text of the value for objects and strings, the byte length for binary data; the same for ` +
    `every implementation of a case) / median ${CLOCK === "cpu" ? "CPU" : "wall"} time per operation over ${ROUNDS} rounds of ~${SAMPLE_MS} ms, implementations ` +
    `interleaved, each case in its own process, a full GC before each sample. cbor-x is the pure-JavaScript build (its \`/encode\` entry), as skypool uses it; msgpackr uses its default ` +
    `records mode. "cbor-x structuredClone" is cbor-x's own mode for shared references, which skypool's codec also preserves.`,
    "",
    `Spread: the MB/s of the slow (90th percentile) and fast (10th percentile) rounds. Operations that do not process their ` +
    `payload (a decoder returning a view of its input, a scan reading only near each cut) are reported in ns/op, not MB/s.`,
    "",
    ...(floor?.p10_p90_mb_per_s
      ? [
        `**memcpy floor** (8 MiB into a destination allocated once): median ${floor.mb_per_s} MB/s, rounds p10–p90 ` +
        `${floor.p10_p90_mb_per_s[0]}–${floor.p10_p90_mb_per_s[1]} MB/s (±${
          Math.round((floor.p10_p90_mb_per_s[1] - floor.p10_p90_mb_per_s[0]) / 2 / floor.mb_per_s! * 100)
        }%), best ${floor.best_mb_per_s}.`,
        "",
      ]
      : []),
    "| case | what | implementation | MB/s (median) | MB/s (slow–fast rounds) | ns/op (median) | MB/s (best round) |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const c of all) {
    for (const r of rows.filter((x) => x.case === c.name)) {
      const spread = r.p10_p90_mb_per_s ? `${r.p10_p90_mb_per_s[0]}–${r.p10_p90_mb_per_s[1]}` : "";
      md.push(`| ${c.name} | ${c.what} | ${r.impl} | ${r.mb_per_s ?? r.no_copy} | ${spread} | ${r.ns_per_op} | ${r.best_mb_per_s ?? ""} |`);
    }
  }
  md.push(
    "",
    "## Done-criteria",
    "",
    "Comparisons between two implementations use the median of their per-round time ratios (samples of a round run back to " +
      "back), which is far less sensitive to this shared machine's load than the ratio of the two medians above.",
    "",
    "| criterion | met | figures |",
    "| --- | --- | --- |",
  );
  for (const c of checks) md.push(`| ${c.criterion} | ${c.pass ? "yes" : "**no**"} | ${c.detail} |`);
  md.push("");

  if (only !== undefined) {
    console.log(md.join("\n"));
    return;
  }
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  // Each runtime has its own results: codec.{md,json} (Node), codec_deno.{md,json}.
  const file = isDeno ? "codec_deno" : "codec";
  writeFileSync(join(dir, `${file}.md`), md.join("\n"));
  writeFileSync(
    join(dir, `${file}.json`),
    JSON.stringify({ machine, runtime, date: new Date().toISOString(), rounds: ROUNDS, sampleMs: SAMPLE_MS, clock: CLOCK, rows, checks }, null, 2) + "\n",
  );
  console.log(md.join("\n"));
}

main();
