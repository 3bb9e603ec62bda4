// `npm run bench -- lambda`: the lambda transport against the Lambda test
// server (src/testing/lambda_server.ts), with skypool's real runtime
// deployed on it (run compiled, on Node, by bench/run.mjs).
//
// - 1 000 tasks of 50 ms (`Pool.map`, chunksize 1) with 100 batches in
//   flight, a concurrency limit of 100 and a simulated cold start of
//   200 ms: wall time against the ideal, cold start + 10 × 50 ms. Each run
//   deploys the function anew, so that all 100 environments start cold.
//   The server starts their 100 Node processes while the function is
//   Pending (its `prewarm`), so that the figure measures the simulated cold
//   start rather than this machine starting 100 processes.
// - invokes per second with trivial tasks (2 000 × identity, chunksize 1)
//   on the warm function.
//
// RUNS runs (default 3), medians. Writes bench/results/lambda.{md,json}.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { config } from "../src/config.ts";
import { Pool } from "../src/pool.ts";
import { deployRuntime, removeRuntime } from "../src/remote/lambda_runtime.ts";
import { RemoteTransport } from "../src/remote/remote_transport.ts";
import { stopBundler } from "../src/task/bundle.ts";
import { startLambdaServer } from "../src/testing/lambda_server.ts";
import { LambdaChannel } from "../src/transport/lambda.ts";
import { median, repoRoot } from "./lib/bench_support.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TASKS = 1000, TASK_MS = 50, CONCURRENCY = 100, COLD_MS = 200, TRIVIAL = 2000;
const IDEAL_MS = COLD_MS + Math.ceil(TASKS / CONCURRENCY) * TASK_MS;
const ROLE = "arn:aws:iam::123456789012:role/skypool-bench";
const CREDENTIALS = { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret" };

config.set({ authkey: "lambda-bench-key-0123456789" });

interface Run {
  sleepMs: number;
  ratio: number;
  coldStarts: number;
  retries: number;
  trivialMs: number;
  invokesPerSecond: number;
  /** CPU (ms) this process (the caller and the test server) spent per trivial invoke. */
  cpuPerInvokeMs: number;
}

async function oneRun(i: number): Promise<Run> {
  const server = await startLambdaServer({ concurrency: CONCURRENCY, coldStartMs: COLD_MS, prewarm: CONCURRENCY, activationMs: 100 });
  const client = { region: "us-east-1", credentials: CREDENTIALS, endpoint: server.endpoint };
  try {
    await deployRuntime({ name: "bench", role: ROLE, timeout: 60, memory: 1024, client });
    // The prewarmed processes load the runtime; timing starts once all have.
    const deadline = Date.now() + 120_000;
    while (server.stats().initialized < CONCURRENCY) {
      if (Date.now() > deadline) throw new Error(`bench: only ${server.stats().initialized} of ${CONCURRENCY} environments loaded in 120 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const channel = new LambdaChannel({ functionName: "bench", concurrency: CONCURRENCY, client });
    const pool = new Pool({ processes: CONCURRENCY, transport: new RemoteTransport(channel, { size: CONCURRENCY }) });
    try {
      const sleep = async (ms: number) => {
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      };
      const t0 = performance.now();
      const out = await pool.map(sleep, Array.from({ length: TASKS }, () => TASK_MS), 1);
      const sleepMs = performance.now() - t0;
      if (out.length !== TASKS || out.some((v) => v !== TASK_MS)) throw new Error("bench: wrong results");
      const coldStarts = channel.stats.coldStarts;
      const cpu0 = process.cpuUsage();
      const t1 = performance.now();
      const trivial = await pool.map((x: number) => x, Array.from({ length: TRIVIAL }, (_, k) => k), 1);
      const trivialMs = performance.now() - t1;
      const cpu = process.cpuUsage(cpu0);
      const cpuPerInvokeMs = (cpu.user + cpu.system) / 1000 / TRIVIAL;
      if (trivial.length !== TRIVIAL) throw new Error("bench: wrong trivial results");
      const r = { sleepMs, ratio: sleepMs / IDEAL_MS, coldStarts, retries: channel.stats.retries, trivialMs, invokesPerSecond: TRIVIAL / (trivialMs / 1000), cpuPerInvokeMs };
      console.log(`run ${i + 1}: ${TASKS} × ${TASK_MS} ms in ${sleepMs.toFixed(0)} ms (${r.ratio.toFixed(2)} × ideal ${IDEAL_MS} ms, ${coldStarts} cold starts, ${r.retries} retries); ${TRIVIAL} trivial in ${trivialMs.toFixed(0)} ms = ${r.invokesPerSecond.toFixed(0)} invokes/s, ${cpuPerInvokeMs.toFixed(2)} ms CPU per invoke in caller + server`);
      return r;
    } finally {
      await pool.terminate();
      await removeRuntime({ name: "bench", client }).catch(() => {});
    }
  } finally {
    await server.close();
  }
}

const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) runs.push(await oneRun(i));
await stopBundler();

const med = (f: (r: Run) => number) => median(runs.map(f));
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg(), node: process.version },
  setup: { tasks: TASKS, taskMs: TASK_MS, concurrency: CONCURRENCY, coldStartMs: COLD_MS, idealMs: IDEAL_MS, trivialTasks: TRIVIAL, runs: RUNS },
  median: {
    sleepMs: Math.round(med((r) => r.sleepMs)),
    ratioToIdeal: Math.round(med((r) => r.ratio) * 100) / 100,
    trivialMs: Math.round(med((r) => r.trivialMs)),
    invokesPerSecond: Math.round(med((r) => r.invokesPerSecond)),
    cpuPerInvokeMs: Math.round(med((r) => r.cpuPerInvokeMs) * 100) / 100,
  },
  runs,
};
const dir = join(repoRoot(import.meta.url), "bench", "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "lambda.json"), JSON.stringify(result, null, 2) + "\n");
writeFileSync(
  join(dir, "lambda.md"),
  `# lambda transport against the Lambda test server

${result.date}; ${result.machine.cpus} × ${result.machine.model}, load ${result.machine.loadavg.map((x) => x.toFixed(2)).join(" ")}; Node ${result.machine.node}; ${RUNS} runs, medians.

Server: concurrency limit ${CONCURRENCY}, simulated cold start ${COLD_MS} ms, the ${CONCURRENCY} environments' processes started while the
function is Pending (prewarm: each still pays the cold start on its first invoke). Caller: \`Pool\` of ${CONCURRENCY} on the
lambda transport, chunksize 1 (one invoke per task), skypool's real runtime (\`deployRuntime\`) as the function.

| job | median | per run |
| --- | --- | --- |
| ${TASKS} × ${TASK_MS} ms sleep | ${result.median.sleepMs} ms = **${result.median.ratioToIdeal} × ideal** (${IDEAL_MS} ms = ${COLD_MS} + ${TASKS / CONCURRENCY} × ${TASK_MS}) | ${runs.map((r) => `${r.sleepMs.toFixed(0)} ms`).join(", ")} |
| ${TRIVIAL} trivial tasks | ${result.median.trivialMs} ms = **${result.median.invokesPerSecond} invokes/s** | ${runs.map((r) => `${r.invokesPerSecond.toFixed(0)}/s`).join(", ")} |

CPU of the caller and the test server (one process) per trivial invoke: ${result.median.cpuPerInvokeMs} ms (median); the
handler processes' CPU comes on top.

Cold starts per run (of ${CONCURRENCY} environments): ${runs.map((r) => r.coldStarts).join(", ")}; throttling retries: ${runs.map((r) => r.retries).join(", ")}.
The caller, the server and its ${CONCURRENCY} Node processes share this machine's ${result.machine.cpus} cores: every invoke costs the server an HTTP
request, a JSON line to and from a child, and the child's base64 + signature checks.
`,
);
console.log(`wrote ${join(dir, "lambda.md")}`);
