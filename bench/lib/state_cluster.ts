// The Redis Cluster part of `npm run bench -- state`: on a test cluster of
// 3 masters + 3 replicas (tests/helpers/redis_cluster.ts), in the same run:
// - a PING through the cluster client (skypool's shared command connection),
//   and a Lock acquire + release and a Queue put + get, in interleaved rounds;
// - the throughput of contended Locks whose keys spread over the three
//   masters, next to the same workload on one redis-server.
// Three runs of each; the medians of the runs are reported. Writes
// bench/results/state_cluster.{md,json}.
import { cpus, loadavg } from "node:os";
import process from "node:process";
import { config, Lock, Queue } from "../../mod.ts";
import { handleFromRecord, handleRecord } from "../../src/state/handle.ts";
import { closeAllConnections, contextFor } from "../../src/state/redis.ts";
import { startRedisCluster } from "../../tests/helpers/redis_cluster.ts";
import { startRedisServer } from "../../tests/helpers/redis_server.ts";
import { median, repoRoot } from "./bench_support.ts";
import { writeResults } from "./results.ts";
import { interleavedSamples, primitiveOps } from "./round_trips.ts";

const RUNS = 3;
// BENCH_ROUNDS (scripts/bench_all.sh --quick) shortens a run.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const BATCH = 50;
/** Contended locks, and async contenders per lock, and how long they run. */
const LOCKS = 6;
const PER_LOCK = 3;
const CONTEND_MS = 2000;

/** Median µs of PING, Lock acquire+release and Queue put+get, interleaved. */
async function roundTrips(): Promise<Record<string, number>> {
  const samples = await interleavedSamples(primitiveOps(new Lock(), new Queue<number>()), { warmup: 200, rounds: ROUNDS, batch: BATCH });
  return Object.fromEntries(Object.entries(samples).map(([n, xs]) => [n, median(xs)]));
}

/** Acquire+release pairs per second over {@link LOCKS} contended locks. */
async function contended(): Promise<number> {
  const locks = Array.from({ length: LOCKS }, () => new Lock());
  for (const l of locks) {
    await l.acquire();
    await l.release();
  }
  let count = 0;
  const end = performance.now() + CONTEND_MS;
  const t0 = performance.now();
  await Promise.all(locks.flatMap((l) =>
    Array.from({ length: PER_LOCK }, async () => {
      // Each contender is its own handle, as in another process.
      const mine = handleFromRecord("lock", handleRecord(l)) as Lock;
      while (performance.now() < end) {
        await mine.acquire();
        await mine.release();
        count++;
      }
    })
  ));
  return count / ((performance.now() - t0) / 1000);
}

/** Runs the cluster benchmark and writes its results. */
export async function benchCluster(): Promise<void> {
  const started = new Date();
  const load0 = loadavg();
  const cluster = await startRedisCluster();
  const single = await startRedisServer();
  const runs: { cluster: Record<string, number>; clusterLocksPerS: number; singleLocksPerS: number; mastersUsed: number }[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      config.set({ redis: { url: cluster.url } });
      const rt = await roundTrips();
      const clusterLocksPerS = await contended();
      const probe = Array.from({ length: LOCKS }, () => new Lock());
      const masters = new Set(await Promise.all(probe.map((l) => cluster.masterPortOf(contextFor(l.location).key("lock", l.id, "owner")))));
      await closeAllConnections();
      config.set({ redis: { url: single.url } });
      const singleLocksPerS = await contended();
      await closeAllConnections();
      runs.push({ cluster: rt, clusterLocksPerS, singleLocksPerS, mastersUsed: masters.size });
    }
  } finally {
    await closeAllConnections();
    config.reset();
    await cluster.stop();
    await single.stop();
  }
  const med = (f: (r: typeof runs[number]) => number) => median(runs.map(f));
  const ping = med((r) => r.cluster.ping);
  const lock = med((r) => r.cluster.lock);
  const queue = med((r) => r.cluster.queue);
  const clusterTput = med((r) => r.clusterLocksPerS);
  const singleTput = med((r) => r.singleLocksPerS);
  const result = {
    started: started.toISOString(),
    cores: cpus().length,
    loadavgBefore: load0,
    loadavgAfter: loadavg(),
    runs,
    medians: {
      clusterPingUs: ping,
      lockAcquireReleaseUs: lock,
      lockInPings: lock / ping,
      queuePutGetUs: queue,
      queueInPings: queue / ping,
      contendedLocksPerS: { cluster: clusterTput, singleServer: singleTput, ratio: clusterTput / singleTput },
    },
  };
  const f = (x: number, d = 0) => x.toFixed(d);
  const md = [
    "# Shared state on a Redis Cluster (3 masters + 3 replicas, one machine)",
    "",
    `${RUNS} runs, medians of the per-run medians; ${started.toISOString()}, ${cpus().length} cores, load ${load0.map((x) => x.toFixed(1)).join(" ")}.`,
    "",
    "| operation | µs | cluster PINGs |",
    "|---|---:|---:|",
    `| cluster PING (same client, same run) | ${f(ping)} | 1 |`,
    `| Lock acquire + release | ${f(lock)} | ${f(lock / ping, 2)} |`,
    `| Queue put + get | ${f(queue)} | ${f(queue / ping, 2)} |`,
    "",
    `Contended locks: ${LOCKS} locks × ${PER_LOCK} contenders for ${CONTEND_MS} ms, in one process: ` +
    `${f(clusterTput)} acquire+release/s with the keys over the cluster's masters ` +
    `(${runs.map((r) => r.mastersUsed).join("/")} masters used per run) vs ${f(singleTput)}/s on one redis-server (×${f(clusterTput / singleTput, 2)}).`,
    "",
    "All nodes share this machine's cores with the client, so the cluster cannot add CPU here: the throughput figure shows the",
    "cost of routing (one connection per master), not the scaling a cluster of separate machines gives.",
    "",
  ];
  writeResults(repoRoot(import.meta.url), "state_cluster", result, md.join("\n"));
}
