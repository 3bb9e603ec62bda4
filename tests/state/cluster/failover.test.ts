// A master of the Redis Cluster is SIGKILLed during Queue and Lock traffic
// and its replica takes over: items are counted (lost, duplicated), and
// every blocked waiter must be woken or time out.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { config } from "../../../src/config.ts";
import { QueueEmptyError } from "../../../src/errors.ts";
import { Lock } from "../../../src/state/lock.ts";
import { Queue } from "../../../src/state/queue.ts";
import { closeAllConnections, contextFor } from "../../../src/state/redis.ts";
import { startRedisCluster, type TestRedisCluster } from "../../helpers/redis_cluster.ts";
import { sleep } from "../../helpers/state_setup.ts";
import type { Buffer } from "node:buffer";
import { decode } from "../../../src/task/codec.ts";

let cluster: TestRedisCluster;
before(async () => {
  cluster = await startRedisCluster();
  config.set({ redis: { url: cluster.url } });
});
after(async () => {
  await closeAllConnections();
  await cluster?.stop();
  config.reset();
});

/** A new Queue (or Lock) whose keys live on the master at `port` (ids are random: try until one lands there). */
async function on<T extends Queue<string> | Lock>(port: number, make: () => T, sub: string): Promise<T> {
  for (;;) {
    const h = make();
    if (await cluster.masterPortOf(contextFor(h.location).key(h.kind, h.id, sub)) === port) return h;
  }
}

test("a master killed during Queue and Lock traffic: its replica takes over, loses nothing it had, duplicates nothing, no waiter hangs", async () => {
  const first = new Queue<string>();
  const victim = await cluster.masterPortOf(contextFor(first.location).key("queue", first.id, "items"));
  const q = first;
  const lock = await on(victim, () => new Lock(), "owner");
  const idle = await on(victim, () => new Queue<string>(), "items");

  let stop = false;
  const acked: string[] = [];
  let putErrors = 0;
  const producers = Array.from({ length: 3 }, (_, p) =>
    (async () => {
      for (let n = 0; !stop; n++) {
        const item = `p${p}:${n}`;
        try {
          await q.put(item);
          acked.push(item);
        } catch {
          putErrors++;
        }
      }
    })());
  const got: string[] = [];
  let producing = true;
  const consumers = Array.from({ length: 2 }, () =>
    (async () => {
      for (;;) {
        try {
          got.push(await q.get({ timeout: 3000 }));
        } catch (err) {
          if (!(err instanceof QueueEmptyError)) throw err;
          if (!producing) return;
        }
      }
    })());
  let inside = 0;
  // When each overlap began (performance.now()): split-brain is possible
  // only while the failover loses unreplicated grants.
  const overlapTimes: number[] = [];
  let acquired = 0;
  let lockErrors = 0;
  const lockErrorMessages = new Set<string>();
  const lockError = (err: unknown) => {
    lockErrors++;
    lockErrorMessages.add(String((err as Error)?.message ?? err).slice(0, 160));
  };
  const lockers = Array.from({ length: 3 }, () =>
    (async () => {
      while (!stop) {
        try {
          if (!(await lock.acquire({ timeout: 8000 }))) continue;
        } catch (err) {
          lockError(err);
          continue;
        }
        if (inside++ > 0) overlapTimes.push(performance.now());
        acquired++;
        await sleep(2);
        inside--;
        await lock.release().catch(lockError);
      }
    })());
  // Waiters blocked on the victim through the failover: each must end, by
  // an item or by its timeout, within that timeout and some slack.
  const waits = Array.from({ length: 3 }, (_, i) => {
    const t0 = performance.now();
    return idle.get({ timeout: 6000 + i * 500 }).then(
      (v) => ({ ms: performance.now() - t0, outcome: `got ${v}` }),
      (e) => ({ ms: performance.now() - t0, outcome: e instanceof QueueEmptyError ? "timeout" : `error ${e}` }),
    );
  });

  // Traffic in full flow before the kill (bounded: a slow machine starts slowly).
  for (const until = performance.now() + 15_000; (acked.length < 100 || acquired < 5) && performance.now() < until;) await sleep(50);
  const ackedBeforeKill = acked.length;
  const replica = await cluster.replicaPortOf(victim);
  const killingAt = performance.now();
  const itemsKey = contextFor(q.location).key("queue", q.id, "items");
  await cluster.killNode(victim);
  const killedAt = performance.now();
  // What the replica had when its master died: it can receive nothing more.
  // (Redis replicates asynchronously: a put the master acknowledged in its
  // last moments may never have reached it, and dies with the master.)
  const onReplica = (await cluster.commandOn<Buffer[]>(replica, ["READONLY"], ["LRANGE", itemsKey, "0", "-1"])).map((raw) => String(decode(raw)));

  await cluster.waitHealthy(20_000);
  const healthyAt = performance.now();
  const healthyAfter = healthyAt - killedAt;
  const ackedAtFailover = acked.length;
  await sleep(1500);
  stop = true;
  await Promise.all([...producers, ...lockers]);
  producing = false;
  await Promise.all(consumers);
  const waited = await Promise.all(waits);

  const received = new Set(got);
  const duplicated = got.length - received.size;
  const lost = acked.filter((item) => !received.has(item));
  const lostFromReplica = onReplica.filter((item) => !received.has(item));
  const report = {
    victim,
    failoverMs: Math.round(healthyAfter),
    acked: acked.length,
    ackedBeforeKill,
    ackedAfterFailover: acked.length - ackedAtFailover,
    received: got.length,
    lost: lost.length,
    lostThatTheReplicaHad: lostFromReplica.length,
    onReplicaAtKill: onReplica.length,
    duplicated,
    putErrors,
    lockAcquired: acquired,
    lockOverlaps: overlapTimes.length,
    lockOverlapsAtMsAfterKill: overlapTimes.map((t) => Math.round(t - killedAt)),
    lockErrors,
    lockErrorMessages: [...lockErrorMessages],
    waiters: waited.map((w) => `${w.outcome} after ${Math.round(w.ms)} ms`),
  };
  console.log("failover:", JSON.stringify(report));

  assert.ok(ackedBeforeKill > 0 && acked.length > ackedAtFailover, "puts go through before and after the failover");
  assert.equal(duplicated, 0, "no item is received twice");
  assert.deepEqual(lostFromReplica, [], "nothing the replica had is lost");
  assert.equal(putErrors, 0, "no put fails: the client finds the new master");
  // A lock granted by the dying master but not yet replicated is unknown to
  // the new one, which may grant it again (Redis replicates asynchronously;
  // the README says so): the lock can be held twice only from the kill until
  // the cluster is healthy again (plus one holder's turn), and the lost
  // holder's release then fails ("release unlocked lock") instead of freeing
  // the new holder's lock. How many grants are lost depends on the timing,
  // so their number is not bounded here; when they happen is.
  const settled = healthyAt + 1000;
  assert.ok(overlapTimes.every((t) => t >= killingAt && t <= settled), `the lock is held twice only during the failover (overlaps at ${report.lockOverlapsAtMsAfterKill.join(", ")} ms after the kill; healthy after ${report.failoverMs} ms)`);
  if (overlapTimes.length > 0) assert.ok(lockErrorMessages.has("release unlocked lock"), "an overlap comes with the lost holder's failed release");
  assert.ok(acquired > 0);
  for (const [i, w] of waited.entries()) {
    assert.equal(w.outcome, "timeout", `blocked waiter ${i} times out (nothing was put)`);
    assert.ok(w.ms >= 6000 + i * 500 - 100 && w.ms < 6000 + i * 500 + 10_000, `waiter ${i} ended after ${w.ms} ms`);
  }
});
