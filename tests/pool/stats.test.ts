import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool, WorkerLostError } from "../../mod.ts";
import { exitWith, sleepMs, sqr, sqrOrFail, terminateTracked, tracked, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 90_000 };

/** Polls `pool.stats()` until `ok` holds (bounded). */
async function statsWhen(pool: Pool, ok: (s: ReturnType<Pool["stats"]>) => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  for (;;) {
    const s = pool.stats();
    if (ok(s)) return s;
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(s)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Pool.stats()", () => {
  afterEach(terminateTracked);

  test("a new pool has done nothing: zero counts and NaN percentiles", T, () => {
    const pool = tracked(new Pool(1));
    const s = pool.stats();
    assert.deepEqual({ ...s, runTimeMs: undefined }, {
      tasksDone: 0,
      tasksFailed: 0,
      workersAlive: 1,
      workersReplaced: 0,
      queuedChunks: 0,
      coldStarts: 0,
      runTimeMs: undefined,
    });
    assert.ok(Number.isNaN(s.runTimeMs.p50) && Number.isNaN(s.runTimeMs.p99));
  });

  test("counts every task of succeeded and failed chunks", T, async () => {
    const pool = tracked(new Pool(2));
    assert.deepEqual(await withTimeout(pool.map(sqr, [1, 2, 3, 4, 5, 6, 7], 3), 30_000, "map"), [1, 4, 9, 16, 25, 36, 49]);
    assert.equal(pool.stats().tasksDone, 7);
    assert.equal(pool.stats().tasksFailed, 0);
    // Chunks of one: item 2 fails alone, the other three succeed.
    await assert.rejects(withTimeout(pool.starmap(sqrOrFail, [[1, 2], [2, 2], [3, 2], [4, 2]], 1), 30_000, "failing map"), RangeError);
    await statsWhen(pool, (s) => s.tasksDone + s.tasksFailed === 11, 10_000, "all chunks ended");
    const s = pool.stats();
    assert.equal(s.tasksDone, 10);
    assert.equal(s.tasksFailed, 1);
  });

  test("run-time percentiles reflect how long the chunks ran, not how long they waited", T, async () => {
    const pool = tracked(new Pool(1));
    // Eight 120 ms tasks on one worker: each waits for the ones before it,
    // so timing from submission would give 120, 240, … 960 ms (p50 480).
    await withTimeout(pool.map(sleepMs, Array(8).fill(120), 1), 30_000, "map");
    const { p50, p90, p99 } = pool.stats().runTimeMs;
    assert.ok(p50 >= 120, `p50 ${p50} ms is below the tasks' own 120 ms`);
    assert.ok(p50 <= p90 && p90 <= p99, `${p50} ≤ ${p90} ≤ ${p99}`);
    // Loose (a busy machine delays results), yet short of the 480 ms that queueing would give.
    assert.ok(p50 < 400, `p50 ${p50} ms counts the wait behind other tasks`);
  });

  test("chunks no worker has started are counted as queued until they start", T, async () => {
    const pool = tracked(new Pool(1));
    const first = pool.applyAsync(sleepMs, [600]);
    await statsWhen(pool, (s) => s.queuedChunks === 0, 20_000, "first task started");
    const rest = [pool.applyAsync(sleepMs, [1]), pool.applyAsync(sleepMs, [1]), pool.applyAsync(sleepMs, [1])];
    assert.equal(pool.stats().queuedChunks, 3);
    await withTimeout(Promise.all([first.get(), ...rest.map((r) => r.get())]), 30_000, "all tasks");
    assert.equal(pool.stats().queuedChunks, 0);
    assert.equal(pool.stats().tasksDone, 4);
  });

  test("a worker that dies is counted as replaced, and the pool is back to full strength", T, async () => {
    const pool = tracked(new Pool(2));
    await statsWhen(pool, (s) => s.workersAlive === 2, 20_000, "both workers up");
    await assert.rejects(withTimeout(pool.apply(exitWith, [3]), 30_000, "exit"), WorkerLostError);
    const s = await statsWhen(pool, (s) => s.workersReplaced === 1 && s.workersAlive === 2, 20_000, "replacement");
    assert.equal(s.tasksFailed, 1);
  });

  test("aborted work counts as failed", T, async () => {
    const pool = tracked(new Pool(1));
    const controller = new AbortController();
    const job = pool.map(sleepMs, [5_000, 5_000, 5_000], { chunksize: 1, signal: controller.signal });
    await statsWhen(pool, (s) => s.queuedChunks === 2, 20_000, "first chunk running");
    controller.abort();
    await assert.rejects(job);
    const s = await statsWhen(pool, (s) => s.tasksFailed === 3, 10_000, "aborted chunks ended");
    assert.equal(s.tasksDone, 0);
    assert.equal(s.queuedChunks, 0);
    // The worker running the first chunk was killed to stop it, and replaced.
    await statsWhen(pool, (s) => s.workersReplaced === 1, 20_000, "replacement");
  });

  test("inline: tasks counted, no workers", T, async () => {
    const pool = tracked(new Pool(0));
    await pool.map((x: number) => x + 1, [1, 2, 3]);
    const s = pool.stats();
    assert.equal(s.tasksDone, 3);
    assert.equal(s.workersAlive, 0);
    assert.equal(s.workersReplaced, 0);
    assert.equal(s.queuedChunks, 0);
    assert.ok(s.runTimeMs.p50 >= 0);
  });
});
