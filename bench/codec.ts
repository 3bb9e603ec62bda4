// `npm run bench -- codec`: skypool's codec against JSON, msgpackr,
// v8.serialize and plain cbor-x, and the WebAssembly framing and newline
// scan against memcpy. Run compiled, on Node, by bench/run.mjs
// (`node npm/build/bench/codec.js`); `deno run -A bench/codec.ts` works too.
//
// Method: every case is timed for every implementation in rounds, the order
// rotating each round so the machine's noise falls on all alike; a round
// runs each implementation for about SAMPLE_MS after a warm-up, and the
// figure is the median over rounds. Throughput is the case's *payload* size
// over time — the same number of bytes for every implementation of a case
// (the JSON text of the value for objects and strings, the byte length for
// binary data), so MB/s compare times directly and no format is rewarded or
// punished for its output size. 1 MB = 10^6 bytes.
//
// Writes bench/results/codec.md and bench/results/codec.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, type as osType } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Buffer } from "node:buffer";
import v8 from "node:v8";
import { Decoder as CborDecoder, Encoder as CborEncoder } from "npm:cbor-x@^1.6.9/encode";
import { Packr } from "npm:msgpackr@^1.11.5";
import { decode, encode } from "../src/task/codec.ts";
import { packFrames, unpackFrames } from "../src/task/frames.ts";
import { newlineSplits } from "../src/task/newline_scan.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 150);
const WARMUP_MS = 200;

/** The repo root, from bench/ (source) or npm/build/bench/ (compiled). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "skypool-dev") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("bench: cannot find the skypool repo root");
    dir = up;
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

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
// Cases.

interface Impl {
  impl: string;
  fn: () => unknown;
}
interface Case {
  name: string;
  what: string;
  payloadBytes: number;
  impls: Impl[];
}

function cases(): Case[] {
  const cbor = new CborEncoder({ useRecords: false });
  const cborDecoder = new CborDecoder({ useRecords: false });
  const cborClone = new CborEncoder({ structuredClone: true, useRecords: false });
  const packr = new Packr();

  const objects = smallObjects();
  const objectsJson = JSON.stringify(objects);
  const objectsBytes = Buffer.byteLength(objectsJson);
  const enc = {
    skypool: encode(objects),
    msgpackr: packr.pack(objects),
    v8: v8.serialize(objects),
    cbor: cbor.encode(objects).slice(),
    cborClone: cborClone.encode(objects).slice(),
  };

  const f64 = new Float64Array(1 << 20).map((_, i) => i * 1.000001);
  const f64Enc = {
    skypool: encode(f64),
    msgpackr: packr.pack(f64),
    v8: v8.serialize(f64),
    cbor: cbor.encode(f64).slice(),
  };

  const str = bigString();
  const strJson = JSON.stringify(str);
  const strBytes = Buffer.byteLength(str);
  const strEnc = { skypool: encode(str), msgpackr: packr.pack(str), v8: v8.serialize(str), cbor: cbor.encode(str).slice() };

  const copySrc = new Uint8Array(f64.buffer);
  const frameItems = Array.from({ length: 64 }, (_, i) => copySrc.subarray(i * 131072, (i + 1) * 131072));
  const batch = packFrames(frameItems);
  const text = lines();
  const indexOfSplits = (bytes: Uint8Array, part: number): number[] => {
    // The plain-JavaScript way to the same splits, for comparison.
    const out: number[] = [];
    let start = 0;
    while (bytes.length - start > part) {
      const nl = bytes.indexOf(0x0a, start + part - 1);
      if (nl < 0 || nl + 1 >= bytes.length) break;
      out.push(nl + 1);
      start = nl + 1;
    }
    return out;
  };

  // Sanity: every implementation must reproduce the data it is timed on.
  assertSame(JSON.stringify(decode(enc.skypool)), objectsJson, "skypool objects");
  assertSame((decode(f64Enc.skypool) as Float64Array)[12345], f64[12345], "skypool f64");
  assertSame(decode(strEnc.skypool), str, "skypool string");
  assertSame(JSON.stringify(newlineSplits(text, 1024)), JSON.stringify(indexOfSplits(text, 1024)), "newline splits");

  return [
    {
      name: "objects-encode",
      what: "10 000 small objects (6 fields, one 2-string array each)",
      payloadBytes: objectsBytes,
      impls: [
        { impl: "skypool", fn: () => encode(objects) },
        { impl: "JSON", fn: () => JSON.stringify(objects) },
        { impl: "msgpackr", fn: () => packr.pack(objects) },
        { impl: "v8", fn: () => v8.serialize(objects) },
        { impl: "cbor-x", fn: () => cbor.encode(objects) },
        { impl: "cbor-x structuredClone", fn: () => cborClone.encode(objects) },
      ],
    },
    {
      name: "objects-decode",
      what: "the same, decoded",
      payloadBytes: objectsBytes,
      impls: [
        { impl: "skypool", fn: () => decode(enc.skypool) },
        { impl: "JSON", fn: () => JSON.parse(objectsJson) },
        { impl: "msgpackr", fn: () => packr.unpack(enc.msgpackr) },
        { impl: "v8", fn: () => v8.deserialize(enc.v8) },
        { impl: "cbor-x", fn: () => cborDecoder.decode(enc.cbor) },
        { impl: "cbor-x structuredClone", fn: () => cborClone.decode(enc.cborClone) },
      ],
    },
    {
      name: "f64-encode",
      what: "an 8 MiB Float64Array",
      payloadBytes: f64.byteLength,
      impls: [
        { impl: "skypool", fn: () => encode(f64) },
        { impl: "msgpackr", fn: () => packr.pack(f64) },
        { impl: "v8", fn: () => v8.serialize(f64) },
        { impl: "cbor-x", fn: () => cbor.encode(f64) },
        { impl: "memcpy", fn: () => Buffer.from(copySrc) },
      ],
    },
    {
      name: "f64-decode",
      what: "the same, decoded",
      payloadBytes: f64.byteLength,
      impls: [
        { impl: "skypool", fn: () => decode(f64Enc.skypool) },
        { impl: "msgpackr", fn: () => packr.unpack(f64Enc.msgpackr) },
        { impl: "v8", fn: () => v8.deserialize(f64Enc.v8) },
        { impl: "cbor-x", fn: () => cborDecoder.decode(f64Enc.cbor) },
        { impl: "memcpy", fn: () => Uint8Array.prototype.slice.call(copySrc) },
      ],
    },
    {
      name: "string-encode",
      what: "a 1 MiB string (mostly ASCII)",
      payloadBytes: strBytes,
      impls: [
        { impl: "skypool", fn: () => encode(str) },
        { impl: "JSON", fn: () => JSON.stringify(str) },
        { impl: "msgpackr", fn: () => packr.pack(str) },
        { impl: "v8", fn: () => v8.serialize(str) },
        { impl: "cbor-x", fn: () => cbor.encode(str) },
      ],
    },
    {
      name: "string-decode",
      what: "the same, decoded",
      payloadBytes: strBytes,
      impls: [
        { impl: "skypool", fn: () => decode(strEnc.skypool) },
        { impl: "JSON", fn: () => JSON.parse(strJson) },
        { impl: "msgpackr", fn: () => packr.unpack(strEnc.msgpackr) },
        { impl: "v8", fn: () => v8.deserialize(strEnc.v8) },
        { impl: "cbor-x", fn: () => cborDecoder.decode(strEnc.cbor) },
      ],
    },
    {
      name: "memcpy",
      what: "copying 8 MiB into a new buffer (the floor for anything that copies)",
      payloadBytes: copySrc.byteLength,
      impls: [
        { impl: "memcpy", fn: () => Buffer.from(copySrc) },
        { impl: "memcpy Uint8Array#slice", fn: () => Uint8Array.prototype.slice.call(copySrc) },
      ],
    },
    {
      name: "frames-pack",
      what: "packFrames: 64 items of 128 KiB into one checksummed batch",
      payloadBytes: copySrc.byteLength,
      impls: [
        { impl: "skypool-wasm", fn: () => packFrames(frameItems) },
        { impl: "memcpy", fn: () => Buffer.from(copySrc) },
      ],
    },
    {
      name: "frames-unpack",
      what: "unpackFrames: verify both checksums, return views",
      payloadBytes: copySrc.byteLength,
      impls: [
        { impl: "skypool-wasm", fn: () => unpackFrames(batch) },
        { impl: "memcpy", fn: () => Buffer.from(copySrc) },
      ],
    },
    {
      name: "newline-scan",
      what: "newlineSplits over 64 MiB of text, 1 KiB parts (every byte is read)",
      payloadBytes: text.byteLength,
      impls: [
        { impl: "skypool-wasm", fn: () => newlineSplits(text, 1024) },
        { impl: "js-indexOf", fn: () => indexOfSplits(text, 1024) },
        { impl: "memcpy", fn: () => Buffer.from(text) },
      ],
    },
    {
      name: "newline-split-large-parts",
      what: "newlineSplits over 64 MiB of text, 1 MiB parts (only the bytes after each cut are read)",
      payloadBytes: text.byteLength,
      impls: [
        { impl: "skypool-wasm", fn: () => newlineSplits(text, 1 << 20) },
        { impl: "js-indexOf", fn: () => indexOfSplits(text, 1 << 20) },
      ],
    },
  ];
}

function assertSame(a: unknown, b: unknown, what: string): void {
  if (a !== b) throw new Error(`bench: ${what} does not round-trip`);
}

// ---------------------------------------------------------------------------
// Timing.

let sink: unknown;

/** Runs `fn` for about `ms`; returns seconds per call. */
function sample(fn: () => unknown, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    sink = fn();
    n++;
    t = performance.now();
  } while (t - t0 < ms);
  return (t - t0) / 1000 / n;
}

interface Row {
  case: string;
  impl: string;
  mb_per_s: number;
  ms_per_op: number;
}

function measure(all: Case[]): Row[] {
  const times = new Map<string, number[]>();
  for (const c of all) for (const i of c.impls) sample(i.fn, WARMUP_MS / 4);
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of all) {
      const k = c.impls.length;
      for (let j = 0; j < k; j++) {
        const impl = c.impls[(j + round) % k];
        const key = `${c.name}\u0000${impl.impl}`;
        if (!times.has(key)) times.set(key, []);
        times.get(key)!.push(sample(impl.fn, SAMPLE_MS));
      }
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
  }
  const rows: Row[] = [];
  for (const c of all) {
    for (const i of c.impls) {
      const s = median(times.get(`${c.name}\u0000${i.impl}`)!);
      rows.push({ case: c.name, impl: i.impl, mb_per_s: Math.round(c.payloadBytes / 1e6 / s * 10) / 10, ms_per_op: Math.round(s * 1e6) / 1000 });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Report.

function main(): void {
  const root = repoRoot();
  const all = cases();
  const before = loadavg();
  const rows = measure(all);
  void sink;
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores, ${osType()} ${release()}`;
  const runtime = typeof (globalThis as { Deno?: { version: { deno: string } } }).Deno !== "undefined"
    ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
    : `node ${process.version}`;
  const get = (c: string, i: string) => rows.find((r) => r.case === c && r.impl === i)?.mb_per_s ?? NaN;
  const memcpy = get("memcpy", "memcpy");
  const checks = [
    {
      criterion: "objects-encode: skypool ≥ JSON",
      pass: get("objects-encode", "skypool") >= get("objects-encode", "JSON"),
      detail: `${get("objects-encode", "skypool")} vs ${get("objects-encode", "JSON")} MB/s`,
    },
    {
      criterion: "f64-encode: skypool ≥ 50% of memcpy",
      pass: get("f64-encode", "skypool") >= 0.5 * memcpy,
      detail: `${get("f64-encode", "skypool")} MB/s = ${Math.round(get("f64-encode", "skypool") / memcpy * 100)}% of ${memcpy} MB/s`,
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
    `every implementation of a case) / median time per operation over ${ROUNDS} rounds of ~${SAMPLE_MS} ms, implementations ` +
    `interleaved. cbor-x is the pure-JavaScript build (its \`/encode\` entry), as skypool uses it; msgpackr uses its default ` +
    `records mode. "cbor-x structuredClone" is cbor-x's own mode for shared references, which skypool's codec also preserves.`,
    "",
    "| case | what | implementation | MB/s | ms/op |",
    "| --- | --- | --- | ---: | ---: |",
  ];
  for (const c of all) {
    for (const i of c.impls) {
      const r = rows.find((x) => x.case === c.name && x.impl === i.impl)!;
      md.push(`| ${c.name} | ${c.what} | ${r.impl} | ${r.mb_per_s} | ${r.ms_per_op} |`);
    }
  }
  md.push("", "## Done-criteria", "", "| criterion | met | figures |", "| --- | --- | --- |");
  for (const c of checks) md.push(`| ${c.criterion} | ${c.pass ? "yes" : "**no**"} | ${c.detail} |`);
  md.push("");

  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "codec.md"), md.join("\n"));
  writeFileSync(
    join(dir, "codec.json"),
    JSON.stringify({ machine, runtime, date: new Date().toISOString(), rounds: ROUNDS, sampleMs: SAMPLE_MS, rows, checks }, null, 2) + "\n",
  );
  console.log(md.join("\n"));
}

main();
