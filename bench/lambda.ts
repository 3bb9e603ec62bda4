// `npm run bench -- lambda`: the lambda transport against the Lambda test
// server (src/testing/lambda_server.ts), with skypool's real runtime
// deployed on it (run compiled, on Node, by bench/run.mjs).
//
// - 1 000 tasks of 50 ms with 100 batches in flight, a concurrency limit
//   of 100 and a simulated cold start of 200 ms: wall time against the
//   ideal, cold start + 10 × 50 ms; twice in each run: as a user writes it
//   (`pool.map(fn, items)`, CPython's default chunksize: 3 tasks per
//   invoke here) and with chunksize 1 (one invoke per task). Each job
//   deploys the function anew, so that all 100 environments start cold.
//   Prewarm: the server starts their 100 Node processes while the function
//   is Pending, and timing starts once all have loaded the runtime; each
//   still sleeps the simulated 200 ms cold start on its first invoke (the
//   channel counts those). So the figure measures the cold start the job
//   asks for, not this 2-core machine starting 100 Node processes (which
//   on Lambda happen on other machines).
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

interface Job {
  sleepMs: number;
  ratio: number;
  invokes: number;
  coldStarts: number;
  retries: number;
}

interface Run {
  /** `pool.map(sleep, items)`: the default chunksize. */
  byDefault: Job;
  /** `pool.map(sleep, items, 1)`: one invoke per task. */
  chunksize1: Job;
  trivialMs: number;
  invokesPerSecond: number;
  /** CPU (ms) this process (the caller and the test server) spent per trivial invoke. */
  cpuPerInvokeMs: number;
}

const sleep = async (ms: number) => {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
};

type Server = Awaited<ReturnType<typeof startLambdaServer>>;
type Client = { region: string; credentials: typeof CREDENTIALS; endpoint: string };

/** Deploys the function anew (all its environments cold, their processes prewarmed) and hands a pool on it to `body`. */
async function onFreshFunction<T>(server: Server, client: Client, body: (pool: Pool, channel: LambdaChannel) => Promise<T>): Promise<T> {
  const before = server.stats().initialized;
  await deployRuntime({ name: "bench", role: ROLE, timeout: 60, memory: 1024, client });
  // The prewarmed processes load the runtime; timing starts once all have.
  const deadline = Date.now() + 120_000;
  while (server.stats().initialized - before < CONCURRENCY) {
    if (Date.now() > deadline) throw new Error(`bench: only ${server.stats().initialized - before} of ${CONCURRENCY} environments loaded in 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const channel = new LambdaChannel({ functionName: "bench", concurrency: CONCURRENCY, client });
  const pool = new Pool({ processes: CONCURRENCY, transport: new RemoteTransport(channel, { size: CONCURRENCY }) });
  try {
    return await body(pool, channel);
  } finally {
    await pool.terminate();
    await removeRuntime({ name: "bench", client }).catch(() => {});
  }
}

/** The 1 000 × 50 ms job on cold environments. */
async function sleepJob(pool: Pool, channel: LambdaChannel, chunksize: number | undefined): Promise<Job> {
  const items = Array.from({ length: TASKS }, () => TASK_MS);
  const t0 = performance.now();
  const out = await (chunksize === undefined ? pool.map(sleep, items) : pool.map(sleep, items, chunksize));
  const sleepMs = performance.now() - t0;
  if (out.length !== TASKS || out.some((v) => v !== TASK_MS)) throw new Error("bench: wrong results");
  return { sleepMs, ratio: sleepMs / IDEAL_MS, invokes: channel.stats.invokes, coldStarts: pool.stats().coldStarts, retries: channel.stats.retries };
}

const describeJob = (j: Job) =>
  `${j.sleepMs.toFixed(0)} ms (${j.ratio.toFixed(2)} × ideal ${IDEAL_MS} ms; ${j.invokes} invokes, ${j.coldStarts} cold starts, ${j.retries} retries)`;

async function oneRun(i: number): Promise<Run> {
  const server = await startLambdaServer({ concurrency: CONCURRENCY, coldStartMs: COLD_MS, prewarm: CONCURRENCY, activationMs: 100 });
  const client = { region: "us-east-1", credentials: CREDENTIALS, endpoint: server.endpoint };
  try {
    const byDefault = await onFreshFunction(server, client, (pool, channel) => sleepJob(pool, channel, undefined));
    return await onFreshFunction(server, client, async (pool, channel) => {
      const chunksize1 = await sleepJob(pool, channel, 1);
      // The same (now warm) function: invokes per second with trivial tasks.
      const cpu0 = process.cpuUsage();
      const t1 = performance.now();
      const trivial = await pool.map((x: number) => x, Array.from({ length: TRIVIAL }, (_, k) => k), 1);
      const trivialMs = performance.now() - t1;
      const cpu = process.cpuUsage(cpu0);
      const cpuPerInvokeMs = (cpu.user + cpu.system) / 1000 / TRIVIAL;
      if (trivial.length !== TRIVIAL) throw new Error("bench: wrong trivial results");
      const r = { byDefault, chunksize1, trivialMs, invokesPerSecond: TRIVIAL / (trivialMs / 1000), cpuPerInvokeMs };
      console.log(
        `run ${i + 1}: ${TASKS} × ${TASK_MS} ms, default chunksize: ${describeJob(byDefault)}; chunksize 1: ${describeJob(chunksize1)}; ` +
          `${TRIVIAL} trivial in ${trivialMs.toFixed(0)} ms = ${r.invokesPerSecond.toFixed(0)} invokes/s, ${cpuPerInvokeMs.toFixed(2)} ms CPU per invoke in caller + server`,
      );
      return r;
    });
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
    defaultChunksize: { sleepMs: Math.round(med((r) => r.byDefault.sleepMs)), ratioToIdeal: Math.round(med((r) => r.byDefault.ratio) * 100) / 100 },
    chunksize1: { sleepMs: Math.round(med((r) => r.chunksize1.sleepMs)), ratioToIdeal: Math.round(med((r) => r.chunksize1.ratio) * 100) / 100 },
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

Server: concurrency limit ${CONCURRENCY}, simulated cold start ${COLD_MS} ms. Prewarm: the ${CONCURRENCY} environments' Node processes
are started while the function is Pending and timing starts once all have loaded the runtime; each still sleeps the
simulated cold start on its first invoke (counted below). Each sleep job runs on a function deployed anew (all cold).
Caller: \`Pool\` of ${CONCURRENCY} on the lambda transport, skypool's real runtime (\`deployRuntime\`) as the function; ideal
${IDEAL_MS} ms = ${COLD_MS} + ${TASKS / CONCURRENCY} × ${TASK_MS}.

| job | median | per run |
| --- | --- | --- |
| ${TASKS} × ${TASK_MS} ms sleep, \`pool.map(fn, items)\` (default chunksize ${Math.ceil(TASKS / (4 * CONCURRENCY))}) | ${result.median.defaultChunksize.sleepMs} ms = **${result.median.defaultChunksize.ratioToIdeal} × ideal** | ${runs.map((r) => `${r.byDefault.sleepMs.toFixed(0)} ms`).join(", ")} |
| ${TASKS} × ${TASK_MS} ms sleep, chunksize 1 (one invoke per task) | ${result.median.chunksize1.sleepMs} ms = **${result.median.chunksize1.ratioToIdeal} × ideal** | ${runs.map((r) => `${r.chunksize1.sleepMs.toFixed(0)} ms`).join(", ")} |
| ${TRIVIAL} trivial tasks | ${result.median.trivialMs} ms = **${result.median.invokesPerSecond} invokes/s** | ${runs.map((r) => `${r.invokesPerSecond.toFixed(0)}/s`).join(", ")} |

CPU of the caller and the test server (one process) per trivial invoke: ${result.median.cpuPerInvokeMs} ms (median); the
handler processes' CPU comes on top.

Cold starts per run (of ${CONCURRENCY} environments), default chunksize / chunksize 1: ${runs.map((r) => `${r.byDefault.coldStarts}/${r.chunksize1.coldStarts}`).join(", ")};
invokes: ${runs.map((r) => `${r.byDefault.invokes}/${r.chunksize1.invokes}`).join(", ")}; throttling retries: ${runs.map((r) => `${r.byDefault.retries}/${r.chunksize1.retries}`).join(", ")}.
The caller, the server and its ${CONCURRENCY} Node processes share this machine's ${result.machine.cpus} cores: every invoke costs the server an HTTP
request, a JSON line to and from a child, and the child's base64 + signature checks.
`,
);
console.log(`wrote ${join(dir, "lambda.md")}`);
