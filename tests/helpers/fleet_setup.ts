/**
 * Test helper: a private redis-server plus fleet worker processes
 * (`fleet_worker_child.ts`) started and stopped by the test.
 *
 * @module
 */
import { config } from "../../src/config.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import { type Child, runChild } from "./child.ts";
import { startRedisCluster } from "./redis_cluster.ts";
import { startRedisServer, type TestRedisServer } from "./redis_server.ts";

/** How a worker is started. */
export interface WorkerSpec {
  /** `"core"`: the remote worker core; `"json"`: the plain handler of `fleet_worker_child.ts`. */
  handler?: "core" | "json";
  concurrency?: number;
  leaseMs?: number;
  maxDeliveries?: number;
  /** Start a replacement whenever this worker exits (as a supervisor such as systemd would). */
  restart?: boolean;
}

/** What a fleet test starts. */
export interface FleetFixture {
  readonly server: TestRedisServer;
  readonly queue: string;
  /** Every worker started and not yet killed by {@link killWorkers}. */
  readonly workers: Child[];
  /** Starts one more worker and waits until it reads. */
  startWorker(spec?: WorkerSpec): Promise<Child>;
  /** SIGKILLs every worker started so far, replacements included (between tests: none may take another test's batches). */
  killWorkers(): Promise<void>;
  /** Kills every worker, stops the server, closes this process' connections, resets the config. */
  stop(): Promise<void>;
}

/**
 * Starts a redis-server (with `cluster`, a Redis Cluster of 3 masters + 3
 * replicas) and points the config at it (`redis.url`, a fresh `fleet.queue`).
 */
export async function startFleet(defaults: WorkerSpec = {}, options: { cluster?: boolean } = {}): Promise<FleetFixture> {
  const server: TestRedisServer = options.cluster ? await startRedisCluster() : await startRedisServer();
  const queue = `q${Math.random().toString(36).slice(2, 8)}`;
  config.set({ redis: { url: server.url }, fleet: { queue } });
  const workers: Child[] = [];
  let generation = 0;
  const start = async (spec: WorkerSpec): Promise<Child> => {
    const { handler = "json", restart = false, ...rest } = { ...defaults, ...spec };
    const key = config.get().authkey;
    const env: Record<string, string> = key === undefined ? {} : { SKYPOOL_AUTHKEY: key };
    const child = runChild(handler, { redisUrl: server.url, queue, ...rest }, env, "fleet_worker_child");
    workers.push(child);
    const born = generation;
    if (restart) {
      child.exited.then(() => {
        if (born === generation) start(spec).catch(() => {});
      });
    }
    await child.waitForLine("ready", 30_000);
    return child;
  };
  const killAll = async () => {
    generation++;
    while (workers.length > 0) await Promise.all(workers.splice(0).map((w) => w.kill()));
  };
  return {
    server,
    queue,
    workers,
    startWorker: (spec = {}) => start(spec),
    killWorkers: killAll,
    async stop() {
      await killAll();
      await closeAllConnections();
      await server.stop();
      config.reset();
    },
  };
}
