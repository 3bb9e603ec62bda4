// AsyncResult semantics: get(timeout), wait, ready, successful, PromiseLike
// (catalogue POOL-08, POOL-11, POOLSRC-05, MPI-01, RAY-03, LMP-09..13).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool, StateError, TimeoutError } from "../../mod.ts";
import { errorSummary, sleep, sqr, sqrOrFail, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 60_000 };

describe("AsyncResult", () => {
  let pool: Pool;
  before(async () => {
    pool = new Pool(2);
    await withTimeout(pool.map(sqr, [1, 2], 1), 30_000, "warm-up");
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  });

  test("get(timeout) rejects with TimeoutError after about timeout ms, and the result stays retrievable (POOL-11, LMP-09)", T, async () => {
    const r = pool.applyAsync(sqr, [6, 1500]);
    const t0 = Date.now();
    await assert.rejects(withTimeout(r.get(300), 10_000, "get(300)"), (err: unknown) => {
      assert.ok(err instanceof TimeoutError, errorSummary(err));
      return true;
    });
    const waited = Date.now() - t0;
    assert.ok(waited >= 300 - 50, `get(300) gave up after only ${waited} ms`);
    assert.ok(waited < 300 + 5000, `get(300) took ${waited} ms`);
    assert.equal(r.ready(), false);
    assert.equal(await withTimeout(r.get(), 15_000, "get() after timeout"), 36);
    assert.equal(await r.get(0), 36, "get(0) on a ready result returns the value");
  });

  test("the mpi4py sequence: ready, successful, wait(tiny), get(tiny), wait(), get (MPI-01, RAY-03)", T, async () => {
    const r = pool.applyAsync(sqr, [7, 600]);
    assert.equal(r.ready(), false);
    assert.throws(() => r.successful(), StateError);
    await withTimeout(r.wait(5), 5000, "wait(5)");
    assert.equal(r.ready(), false);
    assert.throws(() => r.successful(), StateError);
    await assert.rejects(withTimeout(r.get(5), 5000, "get(5)"), TimeoutError);
    const waited = await withTimeout(r.wait(), 15_000, "wait()");
    assert.equal(waited, undefined, "wait() resolves to nothing");
    assert.equal(r.ready(), true);
    assert.equal(r.successful(), true);
    assert.equal(await r.get(), 49);
  });

  test("get(0) on a pending result is an immediate TimeoutError", T, async () => {
    const r = pool.applyAsync(sqr, [2, 3000]);
    const t0 = Date.now();
    await assert.rejects(withTimeout(r.get(0), 5000, "get(0)"), TimeoutError);
    assert.ok(Date.now() - t0 < 2500, "get(0) waited for the task");
    assert.equal(await withTimeout(r.get(), 15_000, "get()"), 4);
  });

  test("wait(timeout) returns after the timeout leaving the result pending, or early when the task ends (LMP-11)", T, async () => {
    const slow = pool.applyAsync(sqr, [3, 3000]);
    let t0 = Date.now();
    await withTimeout(slow.wait(400), 10_000, "wait(400) on a 3 s task");
    let waited = Date.now() - t0;
    assert.ok(waited >= 400 - 50, `wait(400) returned after ${waited} ms`);
    assert.ok(waited < 400 + 5000);
    assert.equal(slow.ready(), false);

    const quick = pool.applyAsync(sqr, [4, 300]);
    t0 = Date.now();
    await withTimeout(quick.wait(10_000), 15_000, "wait(10 s) on a 300 ms task");
    waited = Date.now() - t0;
    assert.ok(waited >= 300 - 50, `returned after ${waited} ms, before the task could finish`);
    assert.ok(waited < 8000, `wait(10 s) did not return early: ${waited} ms`);
    assert.equal(quick.ready(), true);
    assert.equal(await quick.get(0), 16);
    assert.equal(await withTimeout(slow.get(), 15_000, "slow"), 9);
  });

  test("ready() turns true when the task ends (LMP-10)", T, async () => {
    const r = pool.applyAsync(sqr, [5, 700]);
    await sleep(200);
    assert.equal(r.ready(), false);
    await withTimeout(r.wait(), 15_000, "wait");
    assert.equal(r.ready(), true);
  });

  test("successful(): StateError while pending, true on success, false on failure (LMP-13, POOLSRC-05)", T, async () => {
    const ok = pool.applyAsync(sqr, [1]);
    const bad = pool.applyAsync(sqrOrFail, [1, 1]);
    const pending = pool.applyAsync(sqr, [1, 1500]);
    assert.throws(() => pending.successful(), (err: unknown) => {
      assert.ok(err instanceof StateError, errorSummary(err));
      return true;
    });
    await withTimeout(Promise.all([ok.wait(), bad.wait()]), 15_000, "ok and bad");
    assert.equal(ok.successful(), true);
    assert.equal(bad.successful(), false);
    await assert.rejects(bad.get(), RangeError);
    await withTimeout(pending.wait(), 15_000, "pending");
    assert.equal(pending.successful(), true);
  });

  test("get() can be called repeatedly, for values and for errors (LMP-12)", T, async () => {
    const r = pool.applyAsync(sqr, [2]);
    assert.equal(await withTimeout(r.get(), 10_000, "get 1"), 4);
    assert.equal(await r.get(), 4);
    const bad = pool.applyAsync(sqrOrFail, [3, 3]);
    const e1 = await withTimeout(bad.get(), 10_000, "bad get 1").then(() => null, (e: unknown) => e);
    const e2 = await bad.get().then(() => null, (e: unknown) => e);
    assert.ok(e1 instanceof RangeError, errorSummary(e1));
    assert.equal(e2, e1, "the same error each time");
  });

  test("an AsyncResult is PromiseLike: await gives the value or throws the error", T, async () => {
    const mapped = await withTimeout(pool.mapAsync(sqr, [1, 2, 3]), 10_000, "await mapAsync");
    assert.deepEqual(mapped, [1, 4, 9]);
    assert.equal(await withTimeout(pool.applyAsync(sqr, [8]), 10_000, "await applyAsync"), 64);
    const chained = await withTimeout(
      pool.applyAsync(sqr, [3]).then((v: number) => v + 1),
      10_000,
      "then()",
    );
    assert.equal(chained, 10);
    await assert.rejects(
      (async () => await withTimeout(pool.applyAsync(sqrOrFail, [2, 2]), 10_000, "await failing"))(),
      RangeError,
    );
  });

  test("an empty mapAsync is ready at once: get(short timeout) does not time out (POOL-08)", T, async () => {
    const r = pool.mapAsync(sqr, [], { chunksize: 1 });
    assert.deepEqual(await withTimeout(r.get(1000), 5000, "empty get"), []);
    assert.equal(r.ready(), true);
    assert.equal(r.successful(), true);
    const s = pool.starmapAsync(sqr, []);
    assert.deepEqual(await withTimeout(s.get(1000), 5000, "empty starmap get"), []);
  });

  test("a rejected result nobody waited for can still be read later", T, async () => {
    const r = pool.applyAsync(sqrOrFail, [4, 4]);
    await sleep(500);
    await withTimeout(r.wait(), 10_000, "wait");
    assert.equal(r.successful(), false);
    await assert.rejects(r.get(), RangeError);
  });
});
