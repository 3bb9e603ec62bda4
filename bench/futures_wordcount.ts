// `npm run bench -- futures_wordcount`: word count over a 256 MiB generated
// text file cut into 32 newline-aligned partitions and counted by
// FunctionExecutor.mapReduce over objects(file) (each worker reads only its
// partition; the reducer sums), against
// one process reading and counting the whole file itself, and against
// CPython's multiprocessing.Pool doing the same partitioned count
// (bench/wordcount_cpython.py); skypool on Node and on Deno.
//
// Without arguments this is the orchestrator (run compiled, on Node, by
// bench/run.mjs). Each sample is a fresh process (`--sample <case>`) that
// starts and warms its pool before the clock starts and prints one line
// `@@bench {"ms", "words"}`; the samples each ratio compares run back to
// back, and rounds alternate the order, so the machine's noise falls on all
// alike. Figures are medians. Writes bench/results/futures_wordcount.{md,json}.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DataPartition, FunctionExecutor, objects } from "../mod.ts";
import { median, repoRoot } from "./lib/bench_support.ts";

const PREFIX = "@@bench ";
const FILE_BYTES = 256 << 20;
const PARTS = 32;
const PROCESSES = 2;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

// ---------------------------------------------------------------------------
// Data: ASCII words from a fixed vocabulary, lines of 4–15 words, from a
// seeded generator, so every run counts the same file.

function generate(path: string): Promise<void> {
  let seed = 0x2545f491;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const vocab = Array.from({ length: 2000 }, () => Array.from({ length: 2 + rand(9) }, () => letters[rand(26)]).join(""));
  const tmp = `${path}.partial`;
  const out = createWriteStream(tmp);
  let written = 0;
  return new Promise((resolve, reject) => {
    out.on("error", reject);
    const more = () => {
      while (written < FILE_BYTES) {
        const lines: string[] = [];
        let block = 0;
        while (block < 1 << 20) {
          const line = Array.from({ length: 4 + rand(12) }, () => vocab[rand(vocab.length)]).join(" ") + "\n";
          lines.push(line);
          block += line.length;
        }
        const text = lines.join("").slice(0, FILE_BYTES - written);
        written += text.length;
        if (!out.write(text)) return void out.once("drain", more);
      }
      out.end(() => {
        renameSync(tmp, path);
        resolve();
      });
    };
    more();
  });
}

// ---------------------------------------------------------------------------
// Runner: one sample in this process's runtime.

// Self-contained, so that it ships by source.
const countWords = async (p: DataPartition): Promise<number> => {
  const text = await p.text();
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13);
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
};
const sum = (counts: number[]): number => counts.reduce((a, b) => a + b, 0);

async function sample(kind: string, file: string): Promise<{ ms: number; words: number }> {
  const url = pathToFileURL(file).href;
  if (kind === "single") {
    // The same counting code, on one partition spanning the whole file: one read, one decode, one scan.
    const t0 = performance.now();
    const words = await countWords(new DataPartition({ url, part: 0, totalParts: 1, start: 0, end: statSync(file).size }));
    return { ms: performance.now() - t0, words };
  }
  const fexec = new FunctionExecutor({ workers: PROCESSES, showProgressbar: false });
  try {
    // Warm: workers started and the partition kind loaded in each (the first
    // partition a worker sees loads the handle modules once).
    const warm = Array.from({ length: 4 }, (_, i) => new DataPartition({ url, part: i, totalParts: 4, start: i << 12, end: (i + 1) << 12 }));
    await fexec.getResult(await fexec.map(countWords, warm, { chunksize: 1 }));
    const t0 = performance.now();
    const fs = await fexec.mapReduce(countWords, objects(file), sum, { objChunkNumber: PARTS, chunksize: 1 });
    const words = await fexec.getResult(fs[fs.length - 1]) as number;
    const ms = performance.now() - t0;
    return { ms, words };
  } finally {
    await fexec[Symbol.asyncDispose]();
  }
}

// ---------------------------------------------------------------------------
// Orchestrator.

interface Impl {
  case: "single" | "partitioned";
  impl: string;
  cmd: string;
  args: string[];
}

function runSample(i: Impl): { ms: number; words: number } {
  const r = spawnSync(i.cmd, i.args, { encoding: "utf8", maxBuffer: 1 << 24, stdio: ["ignore", "pipe", "inherit"] });
  const line = r.stdout?.split("\n").find((l) => l.startsWith(PREFIX));
  if (r.status !== 0 || line === undefined) throw new Error(`${i.impl} ${i.case} failed (exit ${r.status}): ${r.stdout}`);
  return JSON.parse(line.slice(PREFIX.length));
}

// How much two busy processes get done together, relative to one alone (2
// on two free cores, 1 when the machine is so loaded that a second process
// adds nothing): the ceiling of any two-worker speedup at that moment.
const SPIN = "const end = Date.now() + 1000; let n = 0; while (Date.now() < end) n++; console.log(n);";

function spinCount(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", SPIN], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += String(d)));
    child.once("error", reject);
    child.once("exit", () => resolve(Number(out.trim())));
  });
}

async function parallelCapacity(): Promise<number> {
  const alone = await spinCount();
  const together = await Promise.all([spinCount(), spinCount()]);
  return +((together[0] + together[1]) / alone).toFixed(2);
}

async function orchestrate(): Promise<void> {
  const root = repoRoot(import.meta.url);
  const dir = join(tmpdir(), "skypool-bench");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "wordcount-256MiB.txt");
  if (!existsSync(file) || statSync(file).size !== FILE_BYTES) {
    console.error(`bench futures_wordcount: generating ${file}`);
    await generate(file);
  }
  const localDeno = join(root, "node_modules", ".bin", "deno");
  const deno = existsSync(localDeno) ? localDeno : "deno";
  const self = fileURLToPath(import.meta.url);
  const denoSelf = join(root, "bench", "futures_wordcount.ts");
  const py = join(root, "bench", "wordcount_cpython.py");
  const node = (kind: Impl["case"]): Impl => ({ case: kind, impl: kind === "single" ? "node" : "skypool-node", cmd: process.execPath, args: [self, "--sample", kind, file] });
  const denoImpl = (kind: Impl["case"]): Impl => ({ case: kind, impl: kind === "single" ? "deno" : "skypool-deno", cmd: deno, args: ["run", "-A", denoSelf, "--sample", kind, file] });
  const python = (kind: Impl["case"]): Impl => ({ case: kind, impl: "cpython", cmd: "python3", args: [py, "--sample", kind, "--file", file, "--parts", String(PARTS), "--processes", String(PROCESSES)] });
  // Every pair that a ratio compares runs back to back, so a ratio can also
  // be taken within each round, where the load on the shared machine drifts
  // least; odd rounds run the sequence backwards.
  const sequence: Impl[] = [node("single"), node("partitioned"), python("partitioned"), denoImpl("partitioned"), denoImpl("single"), python("single")];
  const samples = new Map<Impl, number[]>(sequence.map((i) => [i, []]));
  let words: number | undefined;
  const started = Date.now();
  const capacity: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    capacity.push(await parallelCapacity());
    console.error(`round ${round + 1}/${ROUNDS}: two busy processes get ${capacity[round]}× what one gets alone`);
    for (const i of round % 2 === 0 ? sequence : [...sequence].reverse()) {
      const s = runSample(i);
      if (words !== undefined && s.words !== words) throw new Error(`${i.impl} ${i.case} counted ${s.words} words, others ${words}`);
      words = s.words;
      samples.get(i)!.push(s.ms);
      console.error(`round ${round + 1}/${ROUNDS} ${i.case} ${i.impl}: ${s.ms.toFixed(0)} ms`);
    }
  }
  const find = (c: string, impl: string) => sequence.find((i) => i.case === c && i.impl === impl)!;
  const rows = sequence.map((i) => ({ case: i.case, impl: i.impl, ms: Math.round(median(samples.get(i)!)) }));
  const ratio = (what: string, a: Impl, b: Impl, target: string) => {
    const sa = samples.get(a)!;
    const sb = samples.get(b)!;
    return {
      what,
      value: +(median(sa) / median(sb)).toFixed(2),
      pairedMedian: +median(sa.map((x, r) => x / sb[r])).toFixed(2),
      target,
    };
  };
  const ratios: Record<string, ReturnType<typeof ratio>> = {};
  for (const rt of ["node", "deno"]) {
    ratios[`speedup_${rt}`] = ratio(`single ${rt} process ÷ skypool (${rt}) partitioned`, find("single", rt), find("partitioned", `skypool-${rt}`), "≥ 1.5");
    ratios[`vs_cpython_${rt}`] = ratio(`skypool (${rt}) partitioned ÷ CPython partitioned`, find("partitioned", `skypool-${rt}`), find("partitioned", "cpython"), "≤ 1");
  }
  const json = {
    bench: "futures_wordcount",
    date: new Date().toISOString(),
    file: { bytes: FILE_BYTES, words, parts: PARTS },
    processes: PROCESSES,
    rounds: ROUNDS,
    machine: { cpus: cpus().length, loadavg: loadavg().map((l) => +l.toFixed(2)), parallelCapacityPerRound: capacity },
    rows,
    ratios,
    samples: sequence.map((i) => ({ case: i.case, impl: i.impl, ms: samples.get(i)!.map((x) => Math.round(x)) })),
  };
  const out = join(root, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "futures_wordcount.json"), JSON.stringify(json, null, 2) + "\n");
  writeFileSync(join(out, "futures_wordcount.md"), [
    "# Word count over 256 MiB in 32 partitions",
    "",
    `${json.date}; ${json.machine.cpus} CPUs (load ${json.machine.loadavg.join(", ")}); ${words} words; medians of ${ROUNDS} samples, each a fresh process; compared samples run back to back, rounds alternate the order.`,
    "",
    "`single`: one process reads the whole file, decodes it and counts its words. `partitioned`: skypool's",
    `\`new FunctionExecutor({ workers: ${PROCESSES} }).mapReduce(count, objects(file), sum, { objChunkNumber: 32, chunksize: 1 })\` (each call reads its partition's \`text()\`),`,
    `or CPython's \`multiprocessing.Pool(${PROCESSES})\` counting the same newline-aligned ranges (bench/wordcount_cpython.py).`,
    "Workers are started and warmed before the clock starts; listing, cutting and the reduce are timed.",
    "",
    `Parallel capacity per round (work two busy processes get done together ÷ one alone; 2 on two free cores, the ceiling of any 2-worker speedup): ${capacity.join(", ")}.`,
    "",
    "| case | impl | ms |",
    "| --- | --- | ---: |",
    ...rows.map((r) => `| ${r.case} | ${r.impl} | ${r.ms} |`),
    "",
    "| ratio | of medians | median of per-round ratios | target |",
    "| --- | ---: | ---: | --- |",
    ...Object.values(ratios).map((r) => `| ${r.what} | ${r.value} | ${r.pairedMedian} | ${r.target} |`),
    "",
  ].join("\n"));
  console.log(`bench futures_wordcount: wrote bench/results/futures_wordcount.md and .json (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

const at = process.argv.indexOf("--sample");
if (at >= 0) {
  const s = await sample(process.argv[at + 1], process.argv[at + 2]);
  console.log(PREFIX + JSON.stringify(s));
  process.exit(0);
} else {
  await orchestrate();
}
