/**
 * `skypool worker [--redis URL] [--queue NAME] [--concurrency N]`: serves a
 * fleet queue (see `src/remote/fleet_worker.ts`) until SIGTERM or SIGINT,
 * which drain it: no new batches are read, running ones finish and are
 * answered, then the process exits 0. A second signal exits at once.
 *
 * @module
 */
import { Command, InvalidArgumentError } from "npm:commander@^14.0.3";
import process from "node:process";
import { config } from "../config.ts";
import { SkypoolError } from "../errors.ts";
import { runFleetWorker } from "../remote/fleet_worker.ts";
import { redactUrl } from "../state/redis_client.ts";

/** Options of the `worker` command as commander parses them. */
interface WorkerFlags {
  redis?: string;
  queue?: string;
  concurrency: number;
  leaseMs?: number;
  maxDeliveries?: number;
}

/** A commander argument parser for a whole number ≥ 1. */
function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The `worker` subcommand.
 *
 * @example
 * ```ts
 * import { workerCommand } from "./src/cli/worker_command.ts";
 * console.assert(workerCommand().name() === "worker");
 * ```
 */
export function workerCommand(): Command {
  return new Command("worker")
    .description("serve a fleet queue: run the batches callers with transport \"fleet\" put into Redis, until SIGTERM/SIGINT (which drain)")
    .option("--redis <url>", "the Redis the callers use (default: SKYPOOL_REDIS_URL)")
    .option("--queue <name>", "the queue to serve (default: SKYPOOL_FLEET_QUEUE, else \"default\")")
    .option("--concurrency <n>", "batches run at once", positiveInteger, 1)
    .option("--lease-ms <ms>", "how long a silent worker's batches wait before another worker takes them over (default: SKYPOOL_LEASE_MS, else 30000)", positiveInteger)
    .option("--max-deliveries <n>", "deliveries after which a batch that keeps losing its worker fails (default: the caller's setting)", positiveInteger)
    .action(async (flags: WorkerFlags) => {
      const redisUrl = flags.redis ?? config.get().redis.url;
      if (redisUrl === undefined || redisUrl === "") {
        throw new SkypoolError("skypool worker needs the Redis the callers use: pass --redis URL or set SKYPOOL_REDIS_URL");
      }
      const stop = new AbortController();
      let signals = 0;
      const onSignal = (sig: string) => {
        // A second signal means "now": running batches are taken over by other workers after their lease.
        if (++signals > 1) process.exit(sig === "SIGINT" ? 130 : 143);
        console.error(`skypool worker: ${sig}: draining (running batches finish; send it again to stop at once)`);
        stop.abort();
      };
      const listeners = (["SIGTERM", "SIGINT"] as const).map((sig) => [sig, () => onSignal(sig)] as const);
      for (const [sig, l] of listeners) process.on(sig, l);
      const queue = flags.queue ?? config.get().fleet.queue;
      try {
        await runFleetWorker({
          redisUrl,
          queue,
          concurrency: flags.concurrency,
          leaseMs: flags.leaseMs,
          maxDeliveries: flags.maxDeliveries,
          signal: stop.signal,
          onReady: () => console.error(`skypool worker: serving queue ${JSON.stringify(queue)} on ${redactUrl(redisUrl)}, ${flags.concurrency} at once`),
        });
        console.error("skypool worker: drained");
      } finally {
        for (const [sig, l] of listeners) process.off(sig, l);
      }
      // Idle connections must not keep a drained worker alive.
      process.exit(0);
    });
}
