/**
 * `skypool/worker`: run a fleet worker inside your own program (the
 * `skypool worker` command does the same from a shell).
 *
 * @example
 * ```ts
 * import { runFleetWorker } from "./worker.ts";
 * const stop = new AbortController();
 * stop.abort();
 * await runFleetWorker({ redisUrl: "redis://127.0.0.1:6379", signal: stop.signal, handle: async (b) => b });
 * ```
 *
 * @module
 */
export { type BatchHandler, type FleetWorkerOptions, runFleetWorker } from "./src/remote/fleet_worker.ts";
