/**
 * Shared set-up of the shared-state tests: one private redis-server per
 * test file, configured as skypool's Redis, and helpers to pass handles to
 * child processes.
 *
 * @module
 */
import { config } from "../../src/config.ts";
import { handleRecord, type StateHandle } from "../../src/state/handle.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import process from "node:process";
import { killChildren } from "./child.ts";
import { startRedisCluster } from "./redis_cluster.ts";
import { startRedisServer, type TestRedisServer } from "./redis_server.ts";

/**
 * Whether this test file runs against a Redis Cluster: set by importing
 * `on_cluster.ts` first (the files of `tests/state/cluster/` do), or by
 * `SKYPOOL_TEST_REDIS=cluster` for a whole run.
 */
export function onCluster(): boolean {
  return process.env.SKYPOOL_TEST_REDIS === "cluster";
}

/** Starts a server (or a 3+3 node cluster, see {@link onCluster}) and points skypool at it. */
export async function setUpRedis(): Promise<TestRedisServer> {
  const server = onCluster() ? await startRedisCluster() : await startRedisServer();
  try {
    config.set({ redis: { url: server.url } });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/** Ends the file's child processes still running, closes connections, stops the server, drops the config. */
export async function tearDownRedis(server: TestRedisServer | undefined): Promise<void> {
  await killChildren();
  await closeAllConnections();
  await server?.stop();
  config.reset();
}

/** A handle as the child helper expects it. */
export function wire(handle: StateHandle): { kind: string; record: unknown } {
  return { kind: handle.kind, record: handleRecord(handle) };
}

/** Milliseconds since `t0` (from `performance.now()`). */
export function since(t0: number): number {
  return performance.now() - t0;
}

/** Runs `fn` and reports how long it took and what it gave or threw. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Timing tolerance: lower bounds strict (minus clock slack), upper bounds loose. */
export const SLACK = 100;
export const LOOSE = 1500;
