import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { BoundedSemaphore, Semaphore, StateError } from "../../mod.ts";
import { handleFromRecord, handleRecord } from "../../src/state/handle.ts";
import { runChild } from "../helpers/child.ts";
import { LOOSE, setUpRedis, since, SLACK, tearDownRedis, wire } from "../helpers/state_setup.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";

let server: TestRedisServer;

describe("semaphores", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(() => tearDownRedis(server));

  test("Semaphore counts down and up, above its initial value (SEM-01)", async () => {
    const sem = new Semaphore(3);
    assert.equal(await sem.getValue(), 3);
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.getValue(), 2);
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.acquire(), true);
    assert.equal(await sem.getValue(), 0);
    assert.equal(await sem.acquire({ block: false }), false);
    assert.equal(await sem.getValue(), 0);
    for (const expected of [1, 2, 3, 4, 5]) {
      assert.equal(await sem.release(), undefined);
      assert.equal(await sem.getValue(), expected);
    }
    await sem.release(3);
    assert.equal(await sem.getValue(), 8);
  });

  test("BoundedSemaphore refuses to go above its initial value (SEM-02, LT-SEM-01)", async () => {
    const sem = new BoundedSemaphore(2);
    await assert.rejects(sem.release(), StateError);
    await sem.acquire();
    await sem.acquire();
    assert.equal(await sem.getValue(), 0);
    await assert.rejects(sem.release(3), StateError);
    assert.equal(await sem.getValue(), 0, "a refused release changes nothing");
    await sem.release();
    await sem.release();
    assert.equal(await sem.getValue(), 2);
    await assert.rejects(sem.release(), StateError);
    assert.equal(await sem.getValue(), 2);
    await assert.rejects(new BoundedSemaphore(0).release(), StateError);
  });

  test("Semaphore(0) timeouts (SEM-03)", async () => {
    const sem = new Semaphore(0);
    for (const opts of [{ block: false }, { block: false, timeout: undefined }, { block: false, timeout: 600 }]) {
      const t0 = performance.now();
      assert.equal(await sem.acquire(opts), false);
      assert.ok(since(t0) < 400, `non-blocking acquire took ${since(t0)} ms`);
    }
    for (const timeout of [150, 350]) {
      const t0 = performance.now();
      assert.equal(await sem.acquire({ block: true, timeout }), false);
      const took = since(t0);
      assert.ok(took >= timeout - SLACK && took < timeout + LOOSE, `timeout ${timeout}: took ${took} ms`);
    }
  });

  test("constructor and argument checks", async () => {
    assert.throws(() => new Semaphore(-1), RangeError);
    assert.throws(() => new Semaphore(1.5), RangeError);
    assert.throws(() => new Semaphore("2" as unknown as number), TypeError);
    assert.throws(() => new BoundedSemaphore(-3), RangeError);
    await assert.rejects(new Semaphore().release(0), RangeError);
    assert.equal(await new Semaphore(0).getValue(), 0);
    assert.equal(await new Semaphore().getValue(), 1);
  });

  test("no over-grant under contention (LT-SEM-04, LT-SEM-05)", async () => {
    const sem = new Semaphore(4);
    await sem.acquire();
    const copies = Array.from({ length: 5 }, () => handleFromRecord("semaphore", handleRecord(sem)) as Semaphore);
    const tries = await Promise.all(copies.flatMap((c) => [c.acquire({ block: false }), c.acquire({ block: false })]));
    assert.equal(tries.filter((x) => x).length, 3);
    assert.equal(tries.filter((x) => !x).length, 7);

    const sem7 = new Semaphore(7);
    await sem7.acquire();
    const others = Array.from({ length: 10 }, () => handleFromRecord("semaphore", handleRecord(sem7)) as Semaphore);
    let through = 0;
    const pending = others.flatMap((o) => [o.acquire({ timeout: 10_000 }).then((ok) => ok && through++)]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(through, 6);
    await sem7.release(3);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(through, 9, "releasing 3 admits exactly 3 more");
    await sem7.release();
    await Promise.all(pending);
    assert.equal(through, 10);
    assert.equal(await sem7.acquire({ block: false }), false);
  });

  test("a handle copy in another process shares the value; a child's release wakes a waiter (SEMMISC-01)", async () => {
    const sem = new Semaphore(0);
    const child = runChild("release-after", { lock: wire(sem), ms: 300 });
    const t0 = performance.now();
    assert.equal(await sem.acquire({ timeout: 20_000 }), true);
    assert.ok(since(t0) >= 250);
    assert.equal(await child.exited, 0);
    assert.equal(await sem.getValue(), 0);
  });

  test("a killed holder gives its permit back within the lease", async () => {
    const sem = new BoundedSemaphore(1);
    const child = runChild("hold", { lock: wire(sem) }, { SKYPOOL_LEASE_MS: "700" });
    try {
      await child.waitForLine("acquired true");
      assert.equal(await sem.getValue(), 0);
      await child.kill();
      const t0 = performance.now();
      assert.equal(await sem.acquire({ timeout: 10_000 }), true);
      assert.ok(since(t0) < 700 + LOOSE);
      await sem.release();
      assert.equal(await sem.getValue(), 1);
    } finally {
      await child.kill();
    }
  });

  test("a release hands its permit to the oldest blocked acquirer, not to a later one", async () => {
    const sem = new Semaphore(0);
    const copies = [0, 1, 2].map(() => handleFromRecord("semaphore", handleRecord(sem)) as Semaphore);
    const order: number[] = [];
    const waiting: Promise<boolean>[] = [];
    for (const [i, c] of copies.entries()) {
      waiting.push(c.acquire({ timeout: 10_000 }).then((ok) => (order.push(i), ok)));
      await new Promise((r) => setTimeout(r, 60)); // arrive in order
    }
    assert.equal(await sem.acquire({ block: false }), false, "no barging past the waiters");
    await sem.release();
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(order, [0]);
    await sem.release();
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(order, [0, 1]);
    await sem.release();
    assert.deepEqual(await Promise.all(waiting), [true, true, true]);
    assert.deepEqual(order, [0, 1, 2]);
    assert.equal(await sem.getValue(), 0);
  });

  test("a waiter that timed out gets no permit: a later release leaves it free", async () => {
    const sem = new BoundedSemaphore(1);
    await sem.acquire();
    const other = handleFromRecord("bsemaphore", handleRecord(sem)) as BoundedSemaphore;
    assert.equal(await other.acquire({ timeout: 80 }), false);
    await sem.release();
    assert.equal(await sem.getValue(), 1, "the permit was not handed to the timed-out waiter");
    assert.equal(await other.acquire({ block: false }), true);
    await other.release();
  });

  test("a waiter killed while blocked: a permit handed to it comes back within its lease", async () => {
    const sem = new BoundedSemaphore(1);
    await sem.acquire();
    const child = runChild("acquire-timed", { lock: wire(sem), timeout: 60_000 }, { SKYPOOL_LEASE_MS: "700" });
    try {
      await child.waitForLine("trying");
      // Wait until the child blocks in Redis (registered as a waiter).
      for (let i = 0; i < 200; i++) {
        const info = await server.command<string>(["INFO", "clients"]);
        if (Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? 0) >= 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await child.kill();
      await sem.release(); // handed to the dead waiter, whose lease nobody renews
      const t0 = performance.now();
      assert.equal(await sem.acquire({ timeout: 10_000 }), true);
      assert.ok(since(t0) < 700 + LOOSE, `took ${since(t0)} ms to get the permit back`);
      assert.equal(await sem.getValue(), 0);
      await sem.release();
      assert.equal(await sem.getValue(), 1, "nothing lost, nothing created");
      await assert.rejects(sem.release(), StateError);
    } finally {
      await child.kill();
    }
  });

  test("a permit released by another process is not given back again when its holder's lease ends", async () => {
    const sem = new BoundedSemaphore(1);
    const child = runChild("hold", { lock: wire(sem) }, { SKYPOOL_LEASE_MS: "600" });
    try {
      await child.waitForLine("acquired true");
      await sem.release(); // releasing for the holder ends its lease
      assert.equal(await sem.getValue(), 1);
      await child.kill();
      await new Promise((r) => setTimeout(r, 900));
      assert.equal(await sem.getValue(), 1);
      await assert.rejects(sem.release(), StateError);
    } finally {
      await child.kill();
    }
  });
});
