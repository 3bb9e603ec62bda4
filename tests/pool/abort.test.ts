// Cancellation: `signal` and per-task `timeout` on Pool's methods (SPEC
// "Pool", Cancellation; issue 12 item 4). Aborting rejects with the
// signal's reason, drops queued work, kills and replaces a worker running
// the job's task, and leaves the rest of the pool alone.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool, TimeoutError } from "../../mod.ts";
import {
  collectUntilError,
  errorSummary,
  makeTempDir,
  markThenSleep,
  poolPids,
  removeDir,
  sleep,
  sleepMs,
  sqr,
  waitForFile,
  waitPidsGone,
  terminateTracked,
  tracked,
  withTimeout,
  writeJson,
} from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const slowIdentity = async (x: number): Promise<number> => {
  await new Promise((r) => setTimeout(r, 5));
  return x;
};
const isAbortError = (err: unknown): boolean => err instanceof DOMException && err.name === "AbortError";

describe("Pool cancellation", () => {
  afterEach(terminateTracked);
  let pool: Pool;
  let dir: string;
  before(async () => {
    pool = new Pool(2);
    dir = await makeTempDir("skypool-abort-");
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
    await removeDir(dir);
  });

  test("aborting a 10 000-item map rejects it promptly with an AbortError; the next job runs on as many workers", T, async () => {
    const controller = new AbortController();
    const job = pool.map(slowIdentity, range(10_000), { chunksize: 10, signal: controller.signal });
    const settled = job.then(() => "resolved", (err) => err);
    await sleep(500);
    const t0 = performance.now();
    controller.abort();
    const err = await withTimeout(settled, 20_000, "aborted map");
    const ms = performance.now() - t0;
    console.log(`abort of a 10 000-item map settled in ${ms.toFixed(1)} ms`);
    assert.ok(isAbortError(err), errorSummary(err));
    assert.ok(ms < 2_000, `settled ${ms} ms after the abort`);
    assert.deepEqual(await withTimeout(pool.map(sqr, range(20)), 30_000, "next map"), range(20).map((x) => x * x));
    assert.equal((await poolPids(pool, 2, 30_000)).size, 2);
  });

  test("aborting a long-running apply kills its worker, which is replaced; a task on the other worker goes on", T, async () => {
    const otherMarker = `${dir}/other`;
    const other = pool.apply(markThenSleep, [otherMarker, 1_500]);
    const otherPid = Number(await waitForFile(otherMarker, 20_000));
    const controller = new AbortController();
    const marker = `${dir}/long`;
    const long = pool.apply(markThenSleep, [marker, 60_000], { signal: controller.signal });
    const pid = Number(await waitForFile(marker, 20_000));
    assert.notEqual(pid, otherPid);
    controller.abort();
    await assert.rejects(withTimeout(long, 5_000, "aborted apply"), (err: unknown) => isAbortError(err));
    assert.deepEqual(await waitPidsGone([pid], 10_000), [], "the worker running the aborted task was killed");
    assert.equal(await withTimeout(other, 20_000, "task on the other worker"), otherPid, "the other worker was not disturbed");
    const pids = await poolPids(pool, 2, 30_000);
    assert.equal(pids.size, 2);
    assert.ok(!pids.has(pid), "a replacement worker runs in place of the killed one");
  });

  test("a task past its timeout rejects with TimeoutError and the pool goes on", T, async () => {
    const t0 = performance.now();
    await assert.rejects(withTimeout(pool.apply(sleepMs, [60_000], { timeout: 300 }), 20_000, "timed-out apply"), (err: unknown) => {
      assert.ok(err instanceof TimeoutError, errorSummary(err));
      return true;
    });
    assert.ok(performance.now() - t0 >= 300, "not before the timeout");
    await assert.rejects(pool.map(sleepMs, [60_000, 1], { chunksize: 1, timeout: 300 }), TimeoutError);
    assert.equal(await withTimeout(pool.apply(sqr, [7], { timeout: 20_000 }), 20_000, "apply within its timeout"), 49);
    assert.equal((await poolPids(pool, 2, 30_000)).size, 2);
  });

  test("the timeout clock starts when a worker starts the task: waiting behind other work does not count", T, async () => {
    const one = tracked(new Pool(1));
    // Let the worker start, so that the first task's own time is its sleep.
    await withTimeout(one.apply(sqr, [1]), 30_000, "warm-up");
    const busy = one.apply(sleepMs, [1_500]);
    // Queued behind 1.5 s of work, each of these runs for 50 ms: far within its 800 ms.
    const t0 = performance.now();
    const waiting = one.map(sleepMs, [50, 50], { chunksize: 1, timeout: 800 });
    assert.deepEqual(await withTimeout(waiting, 30_000, "queued map"), [50, 50]);
    assert.ok(performance.now() - t0 >= 1_400, "the map really waited behind the busy task");
    assert.equal(await busy, 1_500);
    // Its own run time still counts: a queued task that runs too long times out.
    const blocker = one.apply(sleepMs, [1_000]);
    const t1 = performance.now();
    await assert.rejects(one.apply(sleepMs, [60_000], { timeout: 400 }), TimeoutError);
    const ms = performance.now() - t1;
    assert.ok(ms >= 1_000 + 400 - 50, `timed out ${ms.toFixed(0)} ms after submission: before it could have run 400 ms`);
    await blocker;
  });

  test("a signal aborted before submission rejects at once and runs nothing", T, async () => {
    const controller = new AbortController();
    controller.abort();
    const paths = ["apply", "applyAsync", "map", "mapAsync", "starmap", "starmapAsync", "imap", "imapUnordered"].map((m) => `${dir}/never-${m}`);
    const signal = controller.signal;
    const jobs: Promise<unknown>[] = [
      pool.apply(writeJson, [paths[0]], { signal }),
      pool.applyAsync(writeJson, [paths[1]], { signal }).get(),
      pool.map(writeJson, [paths[2]], { signal }),
      pool.mapAsync(writeJson, [paths[3]], { signal }).get(),
      pool.starmap(writeJson, [[paths[4]]], { signal }),
      pool.starmapAsync(writeJson, [[paths[5]]], { signal }).get(),
      collectUntilError(pool.imap(writeJson, [paths[6]], { signal }), 5_000, "imap").then((r) => Promise.reject(r.error)),
      collectUntilError(pool.imapUnordered(writeJson, [paths[7]], { signal }), 5_000, "imapUnordered").then((r) => Promise.reject(r.error)),
    ];
    for (const [i, job] of jobs.entries()) {
      await assert.rejects(withTimeout(job, 5_000, "pre-aborted job"), (err: unknown) => {
        assert.ok(isAbortError(err), `${paths[i]}: ${errorSummary(err)}`);
        return true;
      });
    }
    // The same work without the signal does write its file: the check below can fail.
    await pool.apply(writeJson, [`${dir}/control`]);
    await waitForFile(`${dir}/control`, 5_000);
    await sleep(300);
    const fs = await import("node:fs");
    for (const p of paths) assert.ok(!fs.existsSync(p), `${p} was written`);
  });

  test("the abort reason is propagated as it is", T, async () => {
    const reason = { why: "user clicked cancel" };
    const controller = new AbortController();
    const job = pool.apply(sleepMs, [60_000], { signal: controller.signal });
    await sleep(200);
    controller.abort(reason);
    await assert.rejects(withTimeout(job, 5_000, "aborted apply"), (err: unknown) => err === reason);
    const error = new RangeError("enough");
    await assert.rejects(pool.map(sqr, [1], { signal: AbortSignal.abort(error) }), (err: unknown) => err === error);
  });

  test("imap iteration rejects at the abort, after the results it already gave", T, async () => {
    const controller = new AbortController();
    const it = pool.imap(slowIdentity, range(100_000), { signal: controller.signal });
    const seen: number[] = [];
    let error: unknown;
    try {
      for await (const v of it) {
        seen.push(v);
        if (seen.length === 3) controller.abort();
      }
    } catch (err) {
      error = err;
    }
    assert.ok(isAbortError(error), errorSummary(error));
    assert.deepEqual(seen.slice(0, 3), [0, 1, 2]);
    assert.ok(seen.length < 100_000);
  });

  test("a signal that is not an AbortSignal, or a bad timeout, is a TypeError naming it", async () => {
    await assert.rejects(pool.map(sqr, [1], { signal: {} as AbortSignal }), { name: "TypeError", message: /^map signal must be an AbortSignal, got / });
    assert.throws(() => pool.applyAsync(sqr, [1], { signal: "stop" as unknown as AbortSignal }), { name: "TypeError", message: /^applyAsync signal must be an AbortSignal, got "stop"/ });
    assert.throws(() => pool.imap(sqr, [1], { timeout: "1s" as unknown as number }), { name: "TypeError", message: /^imap timeout must be a number/ });
    await assert.rejects(pool.apply(sqr, [1], { callback: () => {} } as never), { name: "TypeError", message: /unknown option "callback"/ });
  });
});
