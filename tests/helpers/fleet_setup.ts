/**
 * Test helper: a private redis-server plus fleet worker processes
 * (`fleet_worker_child.ts`) started and stopped by the test.
 *
 * @module
 */
import { config } from "../../src/config.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import { type Child, runChild } from "./child.ts";
import { startRedisServer, type TestRedisServer } from "./redis_server.ts";

/** What a fleet test starts. */
export interface FleetFixture {
  readonly server: TestRedisServer;
  readonly queue: string;
  readonly workers: Child[];
  /** Starts one more worker and waits until it reads. */
  startWorker(options?: { handler?: "core" | "json"; concurrency?: number; leaseMs?: number; maxDeliveries?: number }): Promise<Child>;
  /** SIGKILLs every worker started so far (between tests: none may take another test's batches). */
  killWorkers(): Promise<void>;
  /** Kills every worker, stops the server, closes this process' connections, resets the config. */
  stop(): Promise<void>;
}

/** Starts a redis-server and points the config at it (`redis.url`, a fresh `fleet.queue`). */
export async function startFleet(defaults: { handler?: "core" | "json"; leaseMs?: number } = {}): Promise<FleetFixture> {
  const server = await startRedisServer();
  const queue = `q${Math.random().toString(36).slice(2, 8)}`;
  config.set({ redis: { url: server.url }, fleet: { queue } });
  const workers: Child[] = [];
  return {
    server,
    queue,
    workers,
    async startWorker(options = {}) {
      const { handler = defaults.handler ?? "json", ...rest } = options;
      const child = runChild(handler, { redisUrl: server.url, queue, leaseMs: defaults.leaseMs, ...rest }, {}, "fleet_worker_child");
      workers.push(child);
      await child.waitForLine("ready", 30_000);
      return child;
    },
    async killWorkers() {
      await Promise.all(workers.splice(0).map((w) => w.kill()));
    },
    async stop() {
      await Promise.all(workers.splice(0).map((w) => w.kill()));
      await closeAllConnections();
      await server.stop();
      config.reset();
    },
  };
}
