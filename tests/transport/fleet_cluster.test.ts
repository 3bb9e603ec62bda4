// The fleet on a Redis Cluster (3 masters + 3 replicas): the stream of a
// queue and its result lists share one hash tag, so the worker's
// store-and-acknowledge script stays in one slot, and commands whose key is
// not their first argument (BLMPOP, XGROUP) reach the slot's master.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Lock, Pool, Queue, RawValue } from "../../mod.ts";
import { config } from "../../src/config.ts";
import { type FleetFixture, startFleet } from "../helpers/fleet_setup.ts";
import { sqr, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 180_000 };

describe("fleet on a Redis Cluster", () => {
  let fleet: FleetFixture;
  before(async () => {
    fleet = await startFleet({ handler: "core", concurrency: 4, leaseMs: 2000 }, { cluster: true });
    config.set({ authkey: "fleet-cluster-key-0123456789" });
    await Promise.all([fleet.startWorker(), fleet.startWorker()]);
  });
  after(() => fleet?.stop());

  test("Pool.map returns every result once, in order", T, async () => {
    await using pool = new Pool({ processes: 4, transport: "fleet" });
    const xs = Array.from({ length: 400 }, (_, i) => i);
    assert.deepEqual(await withTimeout(pool.map(sqr, xs, 5), 120_000, "map on the cluster fleet"), xs.map((x) => x * x));
  });

  test("handles on the cluster work in fleet tasks", T, async () => {
    await using pool = new Pool({ processes: 2, transport: "fleet" });
    const lock = new Lock();
    const counter = new RawValue("i", 0);
    const done = new Queue<number>();
    await withTimeout(pool.starmap(async (id: number, lock: Lock, counter: RawValue<"i">, done: Queue<number>) => {
      for (let i = 0; i < 25; i++) {
        await lock.acquire();
        await counter.set((await counter.get()) + 1);
        await lock.release();
      }
      await done.put(id);
    }, [0, 1, 2, 3].map((id) => [id, lock, counter, done] as const)), 120_000, "starmap under a lock");
    assert.equal(await counter.get(), 100);
    const finished: number[] = [];
    for (let i = 0; i < 4; i++) finished.push(await done.get({ timeout: 5_000 }));
    assert.deepEqual(finished.sort(), [0, 1, 2, 3]);
  });
});
