import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Condition, Lock, RLock, Semaphore, StateError } from "../../mod.ts";
import { handleFromRecord, handleRecord } from "../../src/state/handle.ts";
import { runChild } from "../helpers/child.ts";
import { LOOSE, setUpRedis, since, sleep, SLACK, tearDownRedis, wire } from "../helpers/state_setup.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";

let server: TestRedisServer;

/** Another handle of the same condition (its own lock owner), as a worker would get. */
function copy(cond: Condition): Condition {
  return handleFromRecord("condition", JSON.parse(JSON.stringify(handleRecord(cond)))) as Condition;
}

/** Starts `n` waiters (each on its own handle); counts how many were woken (a missed wake-up shows as a timeout). */
async function startWaiters(cond: Condition, n: number, timeout = 10_000) {
  const state = { woken: 0, timedOut: 0, ready: 0 };
  const done = Array.from({ length: n }, async () => {
    const c = copy(cond);
    await c.acquire();
    state.ready++;
    const ok = await c.wait(timeout);
    if (ok) state.woken++;
    else state.timedOut++;
    await c.release();
  });
  while (state.ready < n) await sleep(10);
  await sleep(150); // every waiter has released the lock and blocks in Redis
  return { state, done: Promise.all(done) };
}

async function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error("condition not reached");
    await sleep(10);
  }
}

describe("Condition", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(() => tearDownRedis(server));

  test("wait and notify need the lock (CONDSRC-01)", async () => {
    const cond = new Condition();
    await assert.rejects(cond.wait(10), StateError);
    await assert.rejects(cond.notify(), StateError);
    await assert.rejects(cond.notifyAll(), StateError);
    await cond.acquire();
    await assert.rejects(cond.notify(-1), RangeError);
    await assert.rejects(cond.wait("x" as unknown as number), TypeError);
    await cond.release();
    assert.throws(() => new Condition({} as Lock), TypeError);
  });

  test("wait(timeout) returns false after about the timeout and holds the lock again (COND-04, COND-07)", async () => {
    const cond = new Condition();
    await cond.acquire();
    let t0 = performance.now();
    assert.equal(await cond.wait(0), false);
    assert.ok(since(t0) < 400);
    t0 = performance.now();
    assert.equal(await cond.wait(250), false);
    const took = since(t0);
    assert.ok(took >= 250 - SLACK && took < 250 + LOOSE, `took ${took}`);
    assert.equal(await cond.lock.locked(), true);
    await cond.release();
    assert.equal(await cond.lock.locked(), false);
  });

  test("a notify from another process wakes wait() promptly, and not before it (COND-07)", async () => {
    const cond = new Condition();
    await cond.acquire();
    const child = runChild("cond-notify", { cond: wire(cond), ms: 200 });
    assert.equal(await cond.wait(60_000), true);
    const wokeAt = Date.now();
    await cond.release();
    assert.equal(await child.exited, 0);
    const notifiedAt = Number(/^notifying at (\d+)$/.exec(await child.waitForLine(/^notifying at /))![1]);
    // Both times come from the machine's one clock. The wake-up needs the
    // notifier's release too (a pub/sub round trip or two: milliseconds);
    // the upper bound is loose for a loaded machine, far below the 60 s wait.
    assert.ok(wokeAt >= notifiedAt, `woke at ${wokeAt}, before the notify at ${notifiedAt}`);
    assert.ok(wokeAt - notifiedAt < 5_000, `woke ${wokeAt - notifiedAt} ms after the notify`);
  });

  test("notify(n) wakes exactly n current waiters and is not saved for later ones (COND-03, LT-COND-02)", async () => {
    const cond = new Condition();
    const { state, done } = await startWaiters(cond, 6);
    await cond.acquire();
    await cond.notify(2);
    await cond.release();
    await until(() => state.woken === 2);
    await sleep(200);
    assert.equal(state.woken, 2);
    await cond.acquire();
    await cond.notify(4);
    await cond.release();
    await done;
    assert.equal(state.woken, 6);
    // Nobody waits now: this notify must not be saved for the next waiter.
    await cond.acquire();
    await cond.notify(3);
    assert.equal(await cond.wait(300), false);
    await cond.release();
  });

  test("waiters time out on their own, then notifyAll wakes every new waiter (COND-02)", async () => {
    const cond = new Condition();
    const first = await startWaiters(cond, 4, 200);
    await first.done;
    assert.equal(first.state.timedOut, 4);
    assert.equal(first.state.woken, 0);
    const second = await startWaiters(cond, 5);
    assert.equal(second.state.woken, 0);
    await cond.acquire();
    await cond.notifyAll();
    await cond.release();
    await second.done;
    assert.equal(second.state.woken, 5);
  });

  test("a waiter that timed out does not swallow a later notify", async () => {
    const cond = new Condition();
    const early = await startWaiters(cond, 1, 100);
    await early.done;
    const later = await startWaiters(cond, 1);
    await cond.acquire();
    await cond.notify(1);
    await cond.release();
    await later.done;
    assert.equal(later.state.woken, 1);
  });

  test("waiters in other processes: notify wakes one, then the other", async () => {
    const cond = new Condition();
    const a = runChild("cond-wait", { cond: wire(cond) });
    const b = runChild("cond-wait", { cond: wire(cond) });
    try {
      await a.waitForLine("waiting");
      await b.waitForLine("waiting");
      await sleep(300);
      await cond.acquire();
      await cond.notify();
      await cond.release();
      await Promise.race([a.waitForLine("woken true"), b.waitForLine("woken true")]);
      await sleep(300);
      assert.equal([...a.lines, ...b.lines].filter((l) => l === "woken true").length, 1);
      await cond.acquire();
      await cond.notify();
      await cond.release();
      assert.deepEqual([await a.exited, await b.exited], [0, 0]);
    } finally {
      await a.kill();
      await b.kill();
    }
  });

  test("a waiter that died does not swallow a notify", async () => {
    const cond = new Condition();
    const dead = runChild("cond-wait", { cond: wire(cond) }, { SKYPOOL_LEASE_MS: "500" });
    await dead.waitForLine("waiting");
    await sleep(200);
    await dead.kill();
    await sleep(700); // its waiter lease expires
    const live = await startWaiters(cond, 1);
    await cond.acquire();
    await cond.notify(1);
    await cond.release();
    await live.done;
    assert.equal(live.state.woken, 1);
  });

  test("waitFor re-checks a predicate across processes (COND-05)", async () => {
    const cond = new Condition();
    const counter = new Semaphore(0);
    const child = runChild("cond-waitfor", { cond: wire(cond), counter: wire(counter), target: 4 });
    await sleep(300);
    for (let i = 0; i < 4; i++) {
      await sleep(50);
      await cond.acquire();
      await counter.release();
      await cond.notify();
      await cond.release();
    }
    await child.waitForLine("result true");
    assert.equal(await child.exited, 0);
  });

  test("waitFor gives up after its timeout and returns the predicate's last value (COND-06)", async () => {
    const cond = new Condition();
    await cond.acquire();
    let calls = 0;
    const t0 = performance.now();
    // deno-lint-ignore require-await -- waitFor must accept an async predicate
    const result = await cond.waitFor(async () => {
      calls++;
      return calls > 1000 ? "never" : 0;
    }, 200);
    const took = since(t0);
    assert.equal(result, 0);
    assert.ok(took >= 200 - SLACK && took < 200 + LOOSE, `took ${took}`);
    assert.equal(await cond.waitFor(() => "ready", 0), "ready");
    await cond.release();
  });

  test("default RLock can be held twice and wait restores its depth; a given Lock is shared (LT-COND-03)", async () => {
    const cond = new Condition();
    assert.ok(cond.lock instanceof RLock);
    await cond.acquire();
    await cond.acquire();
    assert.equal(await cond.wait(50), false);
    await cond.release();
    assert.equal(await cond.lock.locked(), true, "one level left after wait");
    await cond.release();
    assert.equal(await cond.lock.locked(), false);

    const lock = new Lock();
    const withLock = new Condition(lock);
    await lock.acquire();
    assert.equal(await withLock.acquire({ block: false }), false);
    await lock.release();
    assert.equal(await withLock.acquire({ block: false }), true);
    assert.equal(await withLock.wait(30), false);
    assert.equal(await lock.locked(), true);
    await withLock.release();
  });
});
