/**
 * Test helper: a fleet worker process. argv[2] is the handler, argv[3] JSON
 * `{ redisUrl, queue, concurrency, leaseMs, maxDeliveries }`. The handler
 * is `"core"` (the remote worker core), `"cli"` (the `skypool worker`
 * command, argv[3] being its argument list) or `"json"`: a plain handler for the stream
 * mechanics, reading `{ v, ms }` and answering `{ v, pid }` after `ms`
 * (`v: "die"` SIGKILLs the worker instead).
 * Prints `ready`, `start <v>` when a JSON batch begins, `drained` at the
 * end; SIGTERM/SIGINT drain it.
 *
 * @module
 */
import process from "node:process";
import { workerCommand } from "../../src/cli/worker_command.ts";
import { runFleetWorker } from "../../src/remote/fleet_worker.ts";

const handler = process.argv[2];
if (handler === "cli") {
  // `skypool worker …` with argv[3] as its JSON argument list; errors as main.ts shows them.
  try {
    await workerCommand().exitOverride().parseAsync(JSON.parse(process.argv[3]) as string[], { from: "user" });
  } catch (err) {
    console.error(`skypool: ${(err as Error).message}`);
    process.exit(1);
  }
}
const opts = JSON.parse(process.argv[3]) as {
  redisUrl: string;
  queue: string;
  concurrency?: number;
  leaseMs?: number;
  maxDeliveries?: number;
};
const stop = new AbortController();
for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => stop.abort());

const json = async (bytes: Uint8Array): Promise<Uint8Array> => {
  const { v, ms } = JSON.parse(new TextDecoder().decode(bytes)) as { v: unknown; ms?: number };
  console.log(`start ${JSON.stringify(v)}`);
  // A worker lost in the middle of a batch.
  if (v === "die") process.kill(process.pid, "SIGKILL");
  if (ms) await new Promise((r) => setTimeout(r, ms));
  return new TextEncoder().encode(JSON.stringify({ v, pid: process.pid }));
};

await runFleetWorker({
  redisUrl: opts.redisUrl,
  queue: opts.queue,
  concurrency: opts.concurrency,
  leaseMs: opts.leaseMs,
  maxDeliveries: opts.maxDeliveries,
  signal: stop.signal,
  handle: handler === "json" ? json : undefined,
  onReady: () => console.log("ready"),
});
console.log("drained");
// Connections and timers of the library must not keep a drained worker alive.
process.exit(0);
