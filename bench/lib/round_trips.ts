// The round-trip timing that the state benchmarks share (bench/state.ts on
// one redis-server, bench/lib/state_cluster.ts on a cluster): a PING on
// redis.ts's shared command connection and the primitives' basic operations,
// each timed one call at a time in rounds that rotate their order, so that
// the machine's noise falls on all of them alike.
import process from "node:process";
import type { Lock, Queue } from "../../mod.ts";
import { contextFor } from "../../src/state/redis.ts";

/** Microseconds since `t0` (a `process.hrtime.bigint()` reading). */
export const usSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1000;

/**
 * PING on the connection `lock`'s operations use, a Lock acquire + release
 * and a Queue put + get: the operations every state benchmark times.
 */
export function primitiveOps(lock: Lock, queue: Queue<number>): Record<string, () => Promise<unknown>> {
  const ctx = contextFor(lock.location);
  return {
    ping: () => ctx.command(["PING"]),
    lock: async () => {
      await lock.acquire();
      await lock.release();
    },
    queue: async () => {
      await queue.put(1);
      await queue.get();
    },
  };
}

/**
 * Every op `warmup` times (connections, script cache, JIT), then `rounds`
 * rounds of `batch` timed calls of each op, the order rotated every round.
 * Returns each op's samples in µs.
 */
export async function interleavedSamples(
  ops: Record<string, () => Promise<unknown>>,
  { warmup, rounds, batch }: { warmup: number; rounds: number; batch: number },
): Promise<Record<string, number[]>> {
  const names = Object.keys(ops);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const op of Object.values(ops)) for (let i = 0; i < warmup; i++) await op();
  for (let r = 0; r < rounds; r++) {
    for (const name of names.map((_, i) => names[(i + r) % names.length])) {
      const op = ops[name];
      for (let i = 0; i < batch; i++) {
        const t0 = process.hrtime.bigint();
        await op();
        samples[name].push(usSince(t0));
      }
    }
  }
  return samples;
}
