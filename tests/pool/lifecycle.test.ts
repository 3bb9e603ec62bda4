// Pool construction, close/terminate/join, `await using` (catalogue POOL-16,
// POOL-17, POOL-19, POOL-24, POOLSRC-01, POOLSRC-02, MPI-03, RAY-01, RAY-02,
// LMP-20, LMP-29..33).
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { config, Pool, StateError, WorkerLostError } from "../../mod.ts";
import { errorSummary, sleep, sleepMs, sqr, terminateTracked, tracked, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 90_000 };

/** Every submitting method of a pool, each as a thunk that submits and awaits. */
function submitters(pool: Pool): [string, () => Promise<unknown>][] {
  return [
    ["apply", () => pool.apply(sqr, [1])],
    ["applyAsync", () => pool.applyAsync(sqr, [1]).get()],
    ["map", () => pool.map(sqr, [1])],
    ["mapAsync", () => pool.mapAsync(sqr, [1]).get()],
    ["starmap", () => pool.starmap(sqr, [[1]])],
    ["starmapAsync", () => pool.starmapAsync(sqr, [[1]]).get()],
    ["imap", async () => {
      for await (const _ of pool.imap(sqr, [1])) { /* drain */ }
    }],
    ["imapUnordered", async () => {
      for await (const _ of pool.imapUnordered(sqr, [1])) { /* drain */ }
    }],
  ];
}

async function assertAllRefused(pool: Pool, when: string): Promise<void> {
  for (const [name, submit] of submitters(pool)) {
    await assert.rejects(
      async () => await withTimeout(submit(), 5000, `${name} ${when}`),
      (err: unknown) => {
        assert.ok(err instanceof StateError, `${name} ${when}: ${errorSummary(err)}`);
        return true;
      },
    );
  }
}

describe("Pool construction", () => {
  afterEach(terminateTracked);

  test("a negative process count is a RangeError; non-integers and strings are refused (POOL-16)", () => {
    assert.throws(() => new Pool(-1), RangeError);
    assert.throws(() => new Pool({ processes: -2 }), RangeError);
    assert.throws(() => new Pool(1.5), (e: unknown) => e instanceof RangeError || e instanceof TypeError);
    assert.throws(() => new Pool("2" as unknown as number), TypeError);
  });

  test("an unknown configured transport is refused naming config.transport, not the call's options", async () => {
    config.set({ transport: "carrier-pigeon" });
    try {
      assert.throws(() => new Pool(2), { name: "RangeError", message: /^config\.transport must be .* got "carrier-pigeon"$/ });
      await using inline = new Pool(0);
      assert.equal(inline.processes, 1, "Pool(0) is inline whatever the configured transport");
    } finally {
      config.reset();
    }
  });

  test("new Pool(options) and new Pool(n, options) both work; new Pool() uses a default count", T, async () => {
    const a = tracked(new Pool({ processes: 1 }));
    const b = tracked(new Pool(1, {}));
    const c = tracked(new Pool());
    try {
      assert.equal(await withTimeout(a.apply(sqr, [2]), 30_000, "a"), 4);
      assert.equal(await withTimeout(b.apply(sqr, [3]), 30_000, "b"), 9);
      assert.deepEqual(await withTimeout(c.map(sqr, [1, 2, 3]), 30_000, "c"), [1, 4, 9]);
    } finally {
      await withTimeout(Promise.all([a.terminate(), b.terminate(), c.terminate()]), 15_000, "terminate");
    }
  });

  test("a pool used without await using or close still works (LMP-20)", T, async () => {
    const p = tracked(new Pool(3));
    assert.deepEqual(await withTimeout(p.map(sqr, [1, 2]), 30_000, "map"), [1, 4]);
    p.close();
    await withTimeout(p.join(), 15_000, "join");
  });
});

describe("close and join", () => {
  afterEach(terminateTracked);

  test("join() before close()/terminate() is a StateError (POOLSRC-02)", T, async () => {
    const pool = tracked(new Pool(1));
    try {
      await assert.rejects(async () => await pool.join(), StateError);
      pool.close();
      pool.close(); // idempotent
      await withTimeout(pool.join(), 15_000, "join after close");
      await withTimeout(pool.join(), 15_000, "join twice");
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("close() returns at once, queued work still completes, join() waits for it (LMP-30, RAY-01)", T, async () => {
    const pool = tracked(new Pool(2));
    try {
      await withTimeout(pool.map(sqr, [1, 2], 1), 30_000, "warm-up");
      const t0 = Date.now();
      const results = [1, 2, 3, 4].map((x) => pool.applyAsync(sqr, [x, 700]));
      const mapped = pool.mapAsync(sqr, [5, 6], { chunksize: 1 });
      pool.close();
      assert.ok(Date.now() - t0 < 1000, "close() blocked");
      assert.equal(results[3].ready(), false, "close() does not cancel or wait");
      await withTimeout(pool.join(), 30_000, "join");
      const joinedAfter = Date.now() - t0;
      assert.ok(joinedAfter >= 1400 - 50, `join() returned after ${joinedAfter} ms, before the queued work could run`);
      for (const [i, r] of results.entries()) {
        assert.equal(r.ready(), true);
        assert.equal(r.successful(), true);
        assert.equal(await r.get(0), (i + 1) ** 2);
      }
      assert.deepEqual(await mapped.get(0), [25, 36]);
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("every submit after close() is a StateError (POOLSRC-01, LMP-31)", T, async () => {
    const pool = tracked(new Pool(1));
    try {
      pool.close();
      await assertAllRefused(pool, "after close");
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("a pool with nothing to do closes, and join() returns within 10 s", T, async () => {
    const pool = tracked(new Pool(2));
    const t0 = Date.now();
    pool.close();
    await withTimeout(pool.join(), 15_000, "join");
    assert.ok(Date.now() - t0 < 10_000);
  });
});

describe("terminate", () => {
  afterEach(terminateTracked);

  test("terminate() with a 20 s task running returns without waiting for it (LMP-32)", T, async () => {
    const pool = tracked(new Pool(1));
    const long = pool.applyAsync(sleepMs, [20_000]);
    await sleep(500);
    const t0 = Date.now();
    await withTimeout(pool.terminate(), 15_000, "terminate");
    await withTimeout(pool.join(), 15_000, "join");
    assert.ok(Date.now() - t0 < 10_000, "terminate waited for the running task");
    await assert.rejects(withTimeout(long.get(), 10_000, "long task after terminate"), (err: unknown) => {
      assert.ok(err instanceof StateError || err instanceof WorkerLostError, errorSummary(err));
      return true;
    });
  });

  test("terminate() with 200 queued tasks: every pending result rejects, nothing hangs (MPI-03, RAY-02)", T, async () => {
    const pool = tracked(new Pool(2));
    const results = Array.from({ length: 200 }, () => pool.applyAsync(sleepMs, [2000]));
    await sleep(300);
    const t0 = Date.now();
    await withTimeout(pool.terminate(), 15_000, "terminate");
    await withTimeout(pool.join(), 15_000, "join");
    const stopMs = Date.now() - t0;
    assert.ok(stopMs < 10_000, `terminate+join took ${stopMs} ms`);
    await withTimeout(Promise.all(results.map((r) => r.wait(10_000))), 15_000, "all results ready");
    for (const [i, r] of results.entries()) {
      assert.equal(r.ready(), true, `result ${i} not ready`);
      assert.equal(r.successful(), false, `result ${i} succeeded after terminate`);
    }
    const last = results[results.length - 1];
    for (const get of [() => last.get(), () => last.get(1000)]) {
      await assert.rejects(withTimeout(get(), 5000, "get"), (err: unknown) => {
        assert.ok(err instanceof StateError || err instanceof WorkerLostError, errorSummary(err));
        return true;
      });
    }
    assert.ok(Date.now() - t0 < 20_000);
  });

  test("terminate() during a 10 000-item mapAsync does not run the queue (POOL-17, MPI-03)", T, async () => {
    const pool = tracked(new Pool(2));
    const r = pool.mapAsync(sleepMs, Array.from({ length: 10_000 }, () => 1000), { chunksize: 1 });
    await sleep(300);
    const t0 = Date.now();
    await withTimeout(pool.terminate(), 15_000, "terminate");
    await withTimeout(pool.join(), 15_000, "join");
    assert.ok(Date.now() - t0 < 10_000);
    await withTimeout(r.wait(10_000), 15_000, "job ready");
    assert.equal(r.ready(), true);
    assert.equal(r.successful(), false);
    await assert.rejects(withTimeout(r.get(), 5000, "get"), (err: unknown) => err instanceof StateError || err instanceof WorkerLostError);
  });

  test("every submit after terminate() is a StateError; terminate is idempotent (LMP-33)", T, async () => {
    const pool = tracked(new Pool(1));
    await withTimeout(pool.terminate(), 15_000, "terminate");
    await withTimeout(pool.terminate(), 15_000, "terminate twice");
    await assertAllRefused(pool, "after terminate");
    await withTimeout(pool.join(), 15_000, "join");
  });

  test("terminate() after close() works, and a never-used pool terminates within 10 s", T, async () => {
    const a = tracked(new Pool(1));
    a.close();
    await withTimeout(a.terminate(), 15_000, "terminate after close");
    await withTimeout(a.join(), 15_000, "join");
    const b = tracked(new Pool(2));
    const t0 = Date.now();
    await withTimeout(b.terminate(), 15_000, "terminate unused");
    assert.ok(Date.now() - t0 < 10_000);
  });
});

describe("await using", () => {
  afterEach(terminateTracked);

  test("leaving the block terminates the pool; then submit is a StateError and join works (POOL-19)", T, async () => {
    let escaped: Pool;
    {
      await using pool = new Pool(2);
      escaped = pool;
      assert.deepEqual(await withTimeout(pool.mapAsync(sqr, [1, 2, 3]).get(), 30_000, "mapAsync"), [1, 4, 9]);
    }
    await withTimeout(escaped.join(), 15_000, "join after the block");
    await assertAllRefused(escaped, "after await using");
  });

  test("leaving the block does not wait for a running task (stdlib, not lambda_multiprocessing LMP-29)", T, async () => {
    let pending: PromiseLike<unknown> & { ready(): boolean; get(timeout?: number): Promise<unknown> };
    const t0 = Date.now();
    {
      await using pool = new Pool(1);
      await withTimeout(pool.apply(sqr, [1]), 30_000, "warm-up");
      pending = pool.applyAsync(sleepMs, [20_000]);
    }
    assert.ok(Date.now() - t0 < 15_000, "the block waited for the task");
    await assert.rejects(withTimeout(pending.get(), 10_000, "pending"), (err: unknown) => err instanceof StateError || err instanceof WorkerLostError);
  });

  test("Symbol.asyncDispose is the terminate hook", T, async () => {
    const pool = tracked(new Pool(1));
    assert.equal(typeof pool[Symbol.asyncDispose], "function");
    await withTimeout(pool[Symbol.asyncDispose](), 15_000, "asyncDispose");
    await assert.rejects(async () => await pool.apply(sqr, [1]), StateError);
  });
});
