// `npm run bench -- remote`: the fleet transport against local, in one run
// (compiled, on Node), with a private redis-server and two fleet worker
// processes started here.
//
// (a) 10 000 trivial items via `Pool.map`: fleet (2 workers) against local
//     (2 worker processes) and http (one `serveHttp` process), each with 2
//     batches in flight (so the same chunks), and fleet with 16 in flight.
// (b) 200 tasks of a 20 ms sleep, chunksize 1, on 2 fleet workers ×
//     concurrency 8, against the ideal 200 × 20 ms / 16.
// (c) Redis commands per batch on the fleet path: `INFO commandstats`
//     before and after a job of (b)'s shape, divided by its batches.
//
// Rounds alternate the implementations (order reversed every round) so
// that the machine's noise falls on both alike; figures are medians.
// Writes bench/results/remote.{md,json}. Run as `--worker URL QUEUE N`,
// this file is a fleet worker (how the orchestrator starts its workers).
import { type ChildProcess, spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type * as Skypool from "../mod.ts";
import { median, repoRoot } from "./lib/bench_support.ts";
import { generatedLine, machineLine, type Row, ratiosTable, rowsTable, writeResults } from "./lib/results.ts";

// BENCH_ROUNDS (scripts/bench_all.sh --quick) shortens a run.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ITEMS = 10_000;
const SLEEP_TASKS = 200;
const SLEEP_MS = 20;
const WORKERS = 2;
const WORKER_CONCURRENCY = 8;
const KEY = "bench-remote-key-0123456789";

async function worker(url: string, queue: string, concurrency: number): Promise<void> {
  const { runFleetWorker } = await import("../src/remote/fleet_worker.ts");
  const stop = new AbortController();
  process.on("SIGTERM", () => stop.abort());
  await runFleetWorker({ redisUrl: url, queue, concurrency, signal: stop.signal, onReady: () => console.log("ready") });
  process.exit(0);
}

function startWorker(url: string, queue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--worker", url, queue, String(WORKER_CONCURRENCY)], {
    env: { ...process.env, SKYPOOL_AUTHKEY: KEY },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`bench remote: a fleet worker exited with ${code} before it was ready`)));
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => {
      if (d.includes("ready")) resolve(child);
    });
  });
}

/** Sum of the calls of every command in `INFO commandstats` but INFO itself, by command. */
function commandCalls(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== "info") out.set(m[1], Number(m[2]));
  return out;
}

async function orchestrate(): Promise<void> {
  const root = repoRoot(import.meta.url);
  const started = Date.now();
  const loadBefore = loadavg();
  const { startRedisServer } = await import("../tests/helpers/redis_server.ts");
  const server = await startRedisServer();
  const queue = "bench";
  const { Pool, config }: typeof Skypool = await import("../mod.ts");
  const { startChildWorker } = await import("../tests/helpers/http_worker.ts");
  const http = await startChildWorker({ SKYPOOL_AUTHKEY: KEY });
  config.set({ redis: { url: server.url }, fleet: { queue }, authkey: KEY, http: { url: http.url } });
  const workers: ChildProcess[] = [];
  const rows: Row[] = [];
  const samples: Record<string, number[]> = {};
  let perBatch: { batches: number; commands: number; byCommand: Record<string, number> } | undefined;
  try {
    for (let i = 0; i < WORKERS; i++) workers.push(await startWorker(server.url, queue));
    const items = Array.from({ length: ITEMS }, (_, i) => i);
    const inc = (x: number): number => x + 1;
    const check = (v: number[]) => {
      if (v.length !== ITEMS || v[ITEMS - 1] !== ITEMS) throw new Error("bench: wrong results");
    };
    const pools: [string, InstanceType<typeof Pool>][] = [
      ["local (2 processes)", new Pool({ processes: 2, transport: "local" })],
      [`fleet (${WORKERS} workers × ${WORKER_CONCURRENCY}, ${WORKERS * WORKER_CONCURRENCY} in flight)`, new Pool({ processes: WORKERS * WORKER_CONCURRENCY, transport: "fleet" })],
      [`fleet (${WORKERS} workers, ${WORKERS} in flight)`, new Pool({ processes: WORKERS, transport: "fleet" })],
      [`http (1 server process, ${WORKERS} in flight)`, new Pool({ processes: WORKERS, transport: "http" })],
    ];
    try {
      // (a)
      const caseA = `(a) map of ${ITEMS} trivial items`;
      for (const [, pool] of pools) for (let w = 0; w < 2; w++) check(await pool.map(inc, items));
      for (const [name] of pools) samples[`${caseA} / ${name}`] = [];
      for (let r = 0; r < ROUNDS; r++) {
        for (const [name, pool] of r % 2 ? [...pools].reverse() : pools) {
          const t = performance.now();
          check(await pool.map(inc, items));
          samples[`${caseA} / ${name}`].push(performance.now() - t);
        }
      }
      for (const [name] of pools) rows.push({ case: caseA, impl: name, ms: median(samples[`${caseA} / ${name}`]) });

      // (b)
      const caseB = `(b) ${SLEEP_TASKS} tasks × ${SLEEP_MS} ms sleep, chunksize 1`;
      const nap = (ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms));
      const naps = Array.from({ length: SLEEP_TASKS }, () => SLEEP_MS);
      // 16 in flight fill the workers' 16 slots exactly, so a slot idles for
      // a round trip through the caller between batches; 32 keep a backlog
      // in the stream that a freed slot takes at once.
      const prefetch = new Pool({ processes: 2 * WORKERS * WORKER_CONCURRENCY, transport: "fleet" });
      pools.push([`fleet (${WORKERS} workers × ${WORKER_CONCURRENCY}, ${2 * WORKERS * WORKER_CONCURRENCY} in flight)`, prefetch]);
      const casePools = [pools[1], pools[pools.length - 1]];
      for (const [name, pool] of casePools) {
        await pool.map(nap, naps, 1);
        samples[`${caseB} / ${name}`] = [];
      }
      for (let r = 0; r < ROUNDS; r++) {
        for (const [name, pool] of r % 2 ? [...casePools].reverse() : casePools) {
          const t = performance.now();
          await pool.map(nap, naps, 1);
          samples[`${caseB} / ${name}`].push(performance.now() - t);
        }
      }
      for (const [name] of casePools) rows.push({ case: caseB, impl: name, ms: median(samples[`${caseB} / ${name}`]) });
      rows.push({ case: caseB, impl: "ideal (200 × 20 ms / 16)", ms: (SLEEP_TASKS * SLEEP_MS) / (WORKERS * WORKER_CONCURRENCY) });

      // (c)
      const before = commandCalls(await server.command<string>(["INFO", "commandstats"]));
      await pools[1][1].map(nap, naps, 1);
      const afterStats = commandCalls(await server.command<string>(["INFO", "commandstats"]));
      const byCommand: Record<string, number> = {};
      let commands = 0;
      for (const [cmd, n] of afterStats) {
        const d = n - (before.get(cmd) ?? 0);
        if (d > 0) {
          byCommand[cmd] = d / SLEEP_TASKS;
          commands += d;
        }
      }
      perBatch = { batches: SLEEP_TASKS, commands: commands / SLEEP_TASKS, byCommand };
    } finally {
      for (const [, pool] of pools) await pool.terminate();
    }
  } finally {
    for (const w of workers) w.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exitCode === null ? new Promise((r) => w.once("exit", r)) : undefined));
    const { closeAllConnections } = await import("../src/state/redis.ts");
    await closeAllConnections();
    await server.stop();
    await http.stop();
  }
  const get = (c: string, i: string) => rows.find((r) => r.case.startsWith(c) && r.impl.startsWith(i))!.ms;
  const fleet16 = `fleet (${WORKERS} workers × ${WORKER_CONCURRENCY}, 16`;
  const fleet32 = `fleet (${WORKERS} workers × ${WORKER_CONCURRENCY}, 32`;
  const ratios = [
    { name: "fleet (2 in flight) ÷ local, (a)", value: get("(a)", "fleet (2 workers, 2") / get("(a)", "local"), target: 3 },
    { name: "fleet (16 in flight) ÷ local, (a)", value: get("(a)", fleet16) / get("(a)", "local"), target: 3 },
    { name: "http (2 in flight) ÷ local, (a)", value: get("(a)", "http") / get("(a)", "local"), target: 3 },
    { name: "fleet (16 in flight) ÷ ideal, (b)", value: get("(b)", fleet16) / get("(b)", "ideal"), target: 1.3 },
    { name: "fleet (32 in flight) ÷ ideal, (b)", value: get("(b)", fleet32) / get("(b)", "ideal"), target: 1.3 },
  ].map((r) => ({ ...r, pass: r.value <= r.target }));
  const json = {
    generated: new Date().toISOString(),
    machine: { cpus: cpus().length, loadBefore, loadAfter: loadavg() },
    rounds: ROUNDS,
    rows,
    ratios,
    redisCommandsPerBatch: perBatch,
    samples,
  };
  const md = [
    "# Remote (fleet) benchmark",
    "",
    generatedLine("remote", json.generated, started, ", on Node"),
    "",
    `${machineLine(loadBefore, json.machine.loadAfter)}. The caller, a private redis-server and ${WORKERS} fleet worker processes share it.`,
    "",
    `Method: ${ROUNDS} rounds after warm-up runs, implementations alternated; figures are medians.`,
    "",
    ...rowsTable(rows),
    "",
    ...ratiosTable(ratios),
    "",
    `Redis commands per batch on the fleet path (${perBatch?.batches} batches of one task; scripts' inner commands counted): ${perBatch?.commands.toFixed(2)}`,
    "",
    "| command | per batch |",
    "| --- | ---: |",
    ...Object.entries(perBatch?.byCommand ?? {}).sort((a, b) => b[1] - a[1]).map(([c, n]) => `| ${c} | ${n.toFixed(2)} |`),
    "",
  ].join("\n");
  writeResults(root, "remote", json, md);
}

const at = process.argv.indexOf("--worker");
if (at >= 0) await worker(process.argv[at + 1], process.argv[at + 2], Number(process.argv[at + 3]));
else await orchestrate();
