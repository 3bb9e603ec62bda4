// `npm run bench -- futures`: the futures API against Pool on the same
// transport, on Node and on Deno, in one run.
//
// Without arguments this is the orchestrator (run compiled, on Node, by
// bench/run.mjs): it runs this file as a runner on Node (compiled) and on
// Deno (source), one after the other, and writes
// bench/results/futures.{md,json} with rows `{ case, impl, ms }`. Each
// runner times both implementations alternately, round after round, so
// that the machine's noise falls on both alike; figures are medians.
//
// Case (a): 10 000 trivial items, `FunctionExecutor.map` + `getResult`
// against `Pool.map`, both on the local transport with 2 workers, both
// warmed first. The executor uses its default chunk size (Pool's).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type * as Skypool from "../mod.ts";
import { median, repoRoot } from "./lib/bench_support.ts";
import { generatedLine, machineLine, type Row, ratiosTable, rowsTable, writeResults } from "./lib/results.ts";

const PREFIX = "@@bench ";
// BENCH_ROUNDS (scripts/bench_all.sh --quick) shortens a run.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const WARMUP = Math.min(10, ROUNDS);
const ITEMS = 10_000;

async function runner(): Promise<void> {
  // Imported here, not at the top, so that the orchestrator never loads the library it measures.
  const { FunctionExecutor, Pool }: typeof Skypool = await import("../mod.ts");
  const runtime = "Deno" in globalThis ? "Deno" : "Node";
  const items = Array.from({ length: ITEMS }, (_, i) => i);
  const inc = (x: number): number => x + 1;
  const pool = new Pool({ processes: 2, transport: "local" });
  const fexec = new FunctionExecutor({ transport: "local", workers: 2, showProgressbar: false });
  const check = (values: unknown) => {
    const v = values as number[];
    if (v.length !== ITEMS || v[ITEMS - 1] !== ITEMS) throw new Error("bench: wrong results");
  };
  const impls: [string, () => Promise<void>][] = [
    [`Pool.map (${runtime})`, async () => check(await pool.map(inc, items))],
    [`FunctionExecutor.map + getResult (${runtime})`, async () => {
      check(await fexec.getResult(await fexec.map(inc, items)));
      await fexec.clean();
    }],
  ];
  const samples = new Map<string, number[]>(impls.map(([name]) => [name, []]));
  // Not `await using`: the npm build's downlevelled form hides the dynamic import above from its .ts → .js rewrite.
  try {
    for (const [, run] of impls) for (let w = 0; w < WARMUP; w++) await run();
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? [...impls].reverse() : impls;
      for (const [name, run] of order) {
        const t = performance.now();
        await run();
        samples.get(name)!.push(performance.now() - t);
      }
    }
  } finally {
    await fexec[Symbol.asyncDispose]();
    await pool.terminate();
  }
  const rows: Row[] = impls.map(([name]) => ({ case: `(a) map of ${ITEMS} trivial items, local transport, 2 workers`, impl: name, ms: median(samples.get(name)!) }));
  console.log(PREFIX + JSON.stringify({ rows, samples: Object.fromEntries(samples) }));
}

function orchestrate(): void {
  const root = repoRoot(import.meta.url);
  const localDeno = join(root, "node_modules", ".bin", "deno");
  const deno = existsSync(localDeno) ? localDeno : "deno";
  const started = Date.now();
  const loadBefore = loadavg();
  const runs: [string, string[]][] = [
    [process.execPath, [fileURLToPath(import.meta.url), "--runner"]],
    [deno, ["run", "-A", join(root, "bench", "futures.ts"), "--runner"]],
  ];
  const rows: Row[] = [];
  const samples: Record<string, number[]> = {};
  for (const [cmd, args] of runs) {
    const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
    const line = r.stdout.split("\n").find((l) => l.startsWith(PREFIX));
    if (r.status !== 0 || !line) throw new Error(`bench futures: runner ${cmd} failed (status ${r.status})`);
    const answer = JSON.parse(line.slice(PREFIX.length)) as { rows: Row[]; samples: Record<string, number[]> };
    rows.push(...answer.rows);
    Object.assign(samples, answer.samples);
  }
  const ratios = ["Node", "Deno"].map((rt) => {
    const pool = rows.find((r) => r.impl === `Pool.map (${rt})`)!.ms;
    const fx = rows.find((r) => r.impl === `FunctionExecutor.map + getResult (${rt})`)!.ms;
    return { runtime: rt, ratio: fx / pool, target: 1.3, pass: fx / pool <= 1.3 };
  });
  const json = {
    generated: new Date().toISOString(),
    machine: { cpus: cpus().length, loadBefore, loadAfter: loadavg() },
    rounds: ROUNDS,
    rows,
    ratios,
    samples,
  };
  const md = [
    "# Futures benchmark",
    "",
    generatedLine("futures", json.generated, started),
    "",
    `${machineLine(loadBefore, json.machine.loadAfter)} (a shared, noisy machine: compare ratios, not times).`,
    "",
    `Method: one runner per runtime times both implementations alternately (order reversed every round), ${ROUNDS} rounds after ${WARMUP} warm-up runs each; figures are medians.`,
    "",
    ...rowsTable(rows),
    "",
    ...ratiosTable(ratios.map((r) => ({ name: `FunctionExecutor ÷ Pool (${r.runtime})`, value: r.ratio, target: r.target, pass: r.pass }))),
    "",
  ].join("\n");
  writeResults(root, "futures", json, md);
}

if (process.argv.includes("--runner")) await runner();
else orchestrate();
