import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Lock, RLock, StateError } from "../../mod.ts";
import { runChild } from "../helpers/child.ts";
import { LOOSE, setUpRedis, since, SLACK, tearDownRedis, wire } from "../helpers/state_setup.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";

let server: TestRedisServer;

describe("locks", () => {
before(async () => {
  server = await setUpRedis();
});
after(() => tearDownRedis(server));

describe("Lock", () => {
  test("acquire, non-blocking acquire, release, locked (LOCK-01)", async () => {
    const lock = new Lock();
    assert.equal(await lock.locked(), false);
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.locked(), true);
    assert.equal(await lock.acquire({ block: false }), false);
    assert.equal(await lock.release(), undefined);
    assert.equal(await lock.locked(), false);
    await assert.rejects(lock.release(), StateError);
  });

  test("block: false ignores the timeout; a timeout gives up after about that long", async () => {
    const lock = new Lock();
    await lock.acquire();
    let t0 = performance.now();
    assert.equal(await lock.acquire({ block: false, timeout: 800 }), false);
    assert.ok(since(t0) < 400, `non-blocking acquire took ${since(t0)} ms`);
    t0 = performance.now();
    assert.equal(await lock.acquire({ timeout: 300 }), false);
    const took = since(t0);
    assert.ok(took >= 300 - SLACK && took < 300 + LOOSE, `timed acquire took ${took} ms`);
    t0 = performance.now();
    assert.equal(await lock.acquire({ timeout: 0 }), false);
    assert.ok(since(t0) < 400);
    await lock.release();
  });

  test("after a timed-out acquire, release leaves it unlocked (LT-LOCK-03)", async () => {
    const lock = new Lock();
    await lock.acquire();
    assert.equal(await lock.acquire({ timeout: 20 }), false);
    await lock.release();
    assert.equal(await lock.acquire({ block: false }), true);
    await lock.release();
  });

  test("bad options are TypeErrors", async () => {
    const lock = new Lock();
    await assert.rejects(lock.acquire({ timeout: "1" as unknown as number }), TypeError);
    await assert.rejects(lock.acquire({ block: 1 as unknown as boolean }), TypeError);
  });

  test("two handles of one lock exclude each other (same id, other connection)", async () => {
    const a = new Lock();
    const { handleFromRecord, handleRecord } = await import("../../src/state/handle.ts");
    const b = handleFromRecord("lock", JSON.parse(JSON.stringify(handleRecord(a)))) as Lock;
    assert.equal(b.id, a.id);
    assert.equal(await a.acquire(), true);
    assert.equal(await b.acquire({ block: false }), false);
    assert.equal(await b.locked(), true);
    await b.release(); // a plain Lock may be released by anyone (CPython)
    assert.equal(await a.locked(), false);
  });

  test("locked state is visible across processes; another process may release (LOCK-02, LOCKMGR-01)", async () => {
    const lock = new Lock();
    const child = runChild("acquire-exit", { lock: wire(lock) });
    await child.waitForLine("locked true");
    assert.equal(await child.exited, 0);
    assert.equal(await lock.locked(), true);
    await lock.release();
    assert.equal(await lock.locked(), false);
    await assert.rejects(lock.release(), StateError);
  });

  test("a blocked acquire wakes soon after another process releases", async () => {
    const lock = new Lock();
    await lock.acquire();
    const child = runChild("acquire-timed", { lock: wire(lock), timeout: 20_000, release: true });
    await child.waitForLine("trying");
    await new Promise((r) => setTimeout(r, 200));
    const released = Date.now();
    await lock.release();
    const line = await child.waitForLine(/^acquired /);
    const [, ok, at] = line.split(" ");
    assert.equal(ok, "true");
    // The waiter blocks in Redis until the release pushes a wake-up (the lease is 30 s).
    assert.ok(Number(at) - released < LOOSE, `woke ${Number(at) - released} ms after release`);
    assert.equal(await child.exited, 0);
  });

  test("several blocked acquirers are each woken in turn by releases (well within the lease)", async () => {
    const lock = new Lock();
    const { handleFromRecord, handleRecord } = await import("../../src/state/handle.ts");
    await lock.acquire();
    const copies = [0, 1, 2].map(() => handleFromRecord("lock", handleRecord(lock)) as Lock);
    let inside = 0;
    let most = 0;
    const t0 = performance.now();
    const runs = copies.map(async (c) => {
      assert.equal(await c.acquire({ timeout: 20_000 }), true);
      most = Math.max(most, ++inside);
      await new Promise((r) => setTimeout(r, 20));
      inside--;
      await c.release();
    });
    await new Promise((r) => setTimeout(r, 100));
    await lock.release();
    await Promise.all(runs);
    assert.equal(most, 1, "never two holders at once");
    // The lease is 30 s: only wake-ups from releases get everyone through this fast.
    assert.ok(since(t0) < 100 + LOOSE + 1000, `took ${since(t0)} ms`);
    assert.equal(await lock.locked(), false);
  });

  test("a holder that is killed frees the lock within the lease", async () => {
    const lock = new Lock();
    const child = runChild("hold", { lock: wire(lock) }, { SKYPOOL_LEASE_MS: "1000" });
    try {
      await child.waitForLine("acquired true");
      // The live holder renews its lease: still held after two lease lengths.
      await new Promise((r) => setTimeout(r, 2200));
      assert.equal(await lock.acquire({ block: false }), false);
      await child.kill();
      const t0 = performance.now();
      assert.equal(await lock.acquire({ timeout: 10_000 }), true);
      const took = since(t0);
      assert.ok(took < 1000 + LOOSE, `took ${took} ms to get a dead holder's lock`);
      await lock.release();
    } finally {
      await child.kill();
    }
  });
});

describe("RLock", () => {
  test("re-entrant for its owner (LOCK-03)", async () => {
    const lock = new RLock();
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.locked(), true);
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.release(), undefined);
    assert.equal(await lock.locked(), true);
    await lock.release();
    await lock.release();
    assert.equal(await lock.locked(), false);
    await assert.rejects(lock.release(), StateError);
  });

  test("another handle (another owner) cannot take or release it", async () => {
    const a = new RLock();
    const { handleFromRecord, handleRecord } = await import("../../src/state/handle.ts");
    const b = handleFromRecord("rlock", handleRecord(a)) as RLock;
    await a.acquire();
    assert.equal(await b.acquire({ block: false }), false);
    assert.equal(await b.acquire({ timeout: 100 }), false);
    await assert.rejects(b.release(), StateError);
    assert.equal(await b.locked(), true);
    await a.release();
    assert.equal(await b.acquire({ block: false }), true);
    await b.release();
  });

  test("a release from another process is a StateError; locked() is seen there (LOCK-04)", async () => {
    const lock = new RLock();
    await lock.acquire();
    const child = runChild("rlock-release", { lock: wire(lock) });
    await child.waitForLine("error StateError");
    assert.equal(await lock.locked(), true);
    await lock.release();
  });

  test("a killed owner frees the RLock within the lease", async () => {
    const lock = new RLock();
    const child = runChild("hold", { lock: wire(lock) }, { SKYPOOL_LEASE_MS: "800" });
    try {
      await child.waitForLine("acquired true");
      await child.kill();
      const t0 = performance.now();
      assert.equal(await lock.acquire({ timeout: 10_000 }), true);
      assert.ok(since(t0) < 800 + LOOSE);
      await lock.release();
    } finally {
      await child.kill();
    }
  });
});
});
