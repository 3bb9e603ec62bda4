// Worker processes: death, replacement, maxtasksperchild, initializer,
// scheduling (catalogue POOL-16, POOLLIFE-01..03, POOLINIT-01, RAY-08;
// SPEC "A worker that dies mid-task rejects that task with WorkerLostError
// and is replaced; nothing hangs").
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool, task, WorkerLostError } from "../../mod.ts";
import {
  errorSummary,
  exitWith,
  fixturesUrl,
  initSetGlobal,
  makeTempDir,
  markThenSleep,
  pidAfter,
  pidAlive,
  poolPids,
  readInitGlobal,
  removeDir,
  sqr,
  terminateTracked,
  timedSleep,
  tracked,
  waitForFile,
  waitPidsGone,
  withTimeout,
} from "../helpers/pool_fixtures.ts";

const T = { timeout: 90_000 };
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);


describe("worker death", () => {
  afterEach(terminateTracked);

  let pool: Pool;
  let dir: string;
  before(async () => {
    pool = new Pool(2);
    dir = await makeTempDir("skypool-workers-");
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
    await removeDir(dir);
  });

  test("process.exit(3) inside a task rejects it with WorkerLostError; the pool replaces the worker", T, async () => {
    const t0 = Date.now();
    // Let a task get going on one worker first, so the exit lands on the other.
    const marker = `${dir}/other-task`;
    const other = pool.applyAsync(markThenSleep, [marker, 1500]);
    const otherPid = Number(await waitForFile(marker, 20_000));
    const doomed = pool.applyAsync(exitWith, [3]);
    await assert.rejects(withTimeout(doomed.get(), 20_000, "exiting task"), (err: unknown) => {
      assert.ok(err instanceof WorkerLostError, errorSummary(err));
      return true;
    });
    assert.equal(await withTimeout(other.get(), 20_000, "task on the other worker"), otherPid, "the other worker was not disturbed");
    const results = await withTimeout(pool.map(sqr, range(8), 1), 30_000, "map after death");
    assert.deepEqual(results, range(8).map((x) => x * x));
    const pids = await poolPids(pool, 2, 20_000);
    assert.equal(pids.size, 2, "the pool is back to two workers");
    assert.ok(Date.now() - t0 < 60_000);
  });

  test("SIGKILL of a worker from outside rejects its running task with WorkerLostError", T, async () => {
    const marker = `${dir}/long-task`;
    const long = pool.applyAsync(markThenSleep, [marker, 30_000]);
    const pid = Number(await waitForFile(marker, 20_000));
    assert.ok(pid > 0 && pid !== process.pid);
    const t0 = Date.now();
    process.kill(pid, "SIGKILL");
    await assert.rejects(withTimeout(long.get(), 15_000, "killed task"), (err: unknown) => {
      assert.ok(err instanceof WorkerLostError, errorSummary(err));
      return true;
    });
    assert.ok(Date.now() - t0 < 15_000);
    assert.equal(long.ready(), true);
    assert.equal(long.successful(), false);
    const pids = await poolPids(pool, 2, 20_000);
    assert.ok(!pids.has(pid), "the killed worker is not serving tasks");
    assert.equal(pids.size, 2, "a replacement worker joined");
  });

  test("a worker dying inside map fails the job without hanging, and the pool goes on", T, async () => {
    const dieOn2 = (x: number): number => {
      if (x === 2) process.exit(9);
      return x * 10;
    };
    await assert.rejects(withTimeout(pool.map(dieOn2, [0, 1, 2, 3], 1), 30_000, "map"), WorkerLostError);
    assert.deepEqual(await withTimeout(pool.map(sqr, [1, 2, 3], 1), 30_000, "map after"), [1, 4, 9]);
  });

  test("killing idle workers does not break the pool", T, async () => {
    const pids = [...await poolPids(pool, 2, 20_000)];
    assert.equal(pids.length, 2);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    assert.deepEqual(await waitPidsGone(pids, 5000), []);
    const after = await withTimeout(pool.map(pidAfter, [200, 200, 200, 200], 1), 30_000, "map after killing all");
    for (const pid of after) assert.ok(!pids.includes(pid));
    assert.deepEqual(await withTimeout(pool.map(sqr, [7]), 20_000, "sqr"), [49]);
  });
});

describe("worker count and scheduling", () => {
  afterEach(terminateTracked);

  let pool: Pool;
  before(() => {
    pool = new Pool(3);
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  });

  test("Pool(3) runs three tasks at once on three workers (POOL-16, LMP-07)", T, async () => {
    assert.equal((await poolPids(pool, 3, 20_000)).size, 3, "three workers are up");
    const rs = await withTimeout(pool.map(timedSleep, [1000, 1000, 1000], 1), 30_000, "three sleeps");
    assert.equal(new Set(rs.map((r) => r.pid)).size, 3);
    for (const a of rs) {
      for (const b of rs) {
        if (a !== b) assert.ok(a.start < b.end && b.start < a.end, `sleeps did not overlap: ${JSON.stringify(rs)}`);
      }
    }
  });

  test("queued tasks go to idle workers rather than waiting behind a slow task", T, async () => {
    const t0 = Date.now();
    const slow = pool.applyAsync(sqr, [2, 3000]);
    const fast = range(9).map((i) => pool.applyAsync(sqr, [i, 50]));
    const fastDone = await withTimeout(Promise.all(fast.map((r) => r.get())), 30_000, "fast tasks");
    const fastMs = Date.now() - t0;
    assert.deepEqual(fastDone, range(9).map((i) => i * i));
    assert.equal(slow.ready(), false, `fast tasks finished after ${fastMs} ms, but only after the slow one`);
    assert.equal(await withTimeout(slow.get(), 20_000, "slow"), 4);
    assert.ok(Date.now() - t0 >= 3000 - 50);
  });
});

describe("maxtasksperchild", () => {
  afterEach(terminateTracked);

  test("maxtasksperchild=1 gives every task a fresh worker (RAY-08)", T, async () => {
    const pool = tracked(new Pool(2, { maxtasksperchild: 1 }));
    try {
      const pids = await withTimeout(pool.map(pidAfter, [0, 0, 0, 0, 0, 0], 1), 60_000, "map pids");
      assert.equal(new Set(pids).size, 6, `pids: ${pids}`);
      assert.deepEqual(await waitPidsGone(pids.slice(0, 4), 10_000), [], "recycled workers exited");
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("maxtasksperchild=10: 40 tasks all correct, in order, on at least 4 distinct workers (POOLLIFE-01)", T, async () => {
    const pool = tracked(new Pool(2, { maxtasksperchild: 10 }));
    try {
      // deno-lint-ignore require-await -- an async task function is what this checks
      const sqrPid = async (i: number): Promise<[number, number]> => [i * i, process.pid];
      const results = range(40).map((i) => pool.applyAsync(sqrPid, [i]));
      const got = await withTimeout(Promise.all(results.map((r) => r.get())), 60_000, "40 results");
      assert.deepEqual(got.map(([v]) => v), range(40).map((i) => i * i));
      const perPid = new Map<number, number>();
      for (const [, pid] of got) perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
      assert.ok(perPid.size >= 4, `only ${perPid.size} workers served 40 tasks`);
      for (const [pid, n] of perPid) assert.ok(n <= 10, `worker ${pid} ran ${n} tasks`);
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("maxtasksperchild=1 with close() and join() right away does not hang (POOLLIFE-02)", T, async () => {
    const pool = tracked(new Pool(2, { maxtasksperchild: 1 }));
    try {
      const results = range(6).map((i) => pool.applyAsync(sqr, [i, 300]));
      pool.close();
      await withTimeout(pool.join(), 30_000, "join");
      for (const [i, r] of results.entries()) {
        assert.equal(r.ready(), true);
        assert.equal(await r.get(0), i * i);
      }
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("invalid maxtasksperchild is refused (POOLLIFE-03)", () => {
    for (const bad of [0, -1]) assert.throws(() => new Pool(1, { maxtasksperchild: bad }), RangeError, String(bad));
    assert.throws(() => new Pool(1, { maxtasksperchild: 0.5 }), (e: unknown) => e instanceof RangeError || e instanceof TypeError);
    assert.throws(() => new Pool(1, { maxtasksperchild: "12" as unknown as number }), TypeError);
  });
});

describe("initializer", () => {
  afterEach(terminateTracked);

  test("runs once per worker before its first task, with initargs (POOLINIT-01)", T, async () => {
    const pool = tracked(new Pool(2, { initializer: initSetGlobal, initargs: [{ tag: "hello" }] }));
    try {
      const rs = await withTimeout(pool.map(readInitGlobal, [150, 150, 150, 150, 150, 150], 1), 60_000, "map");
      for (const r of rs) {
        assert.equal(r.count, 1, `worker ${r.pid} ran the initializer ${r.count} times`);
        assert.deepEqual(r.value, { tag: "hello" });
      }
      assert.ok(new Set(rs.map((r) => r.pid)).size <= 2);
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("recycled workers run the initializer again, once each", T, async () => {
    const pool = tracked(new Pool(1, { initializer: initSetGlobal, initargs: [7], maxtasksperchild: 2 }));
    try {
      const rs = await withTimeout(pool.map(readInitGlobal, [0, 0, 0, 0, 0, 0], 1), 60_000, "map");
      const pids = new Set(rs.map((r) => r.pid));
      assert.ok(pids.size >= 3, `only ${pids.size} workers for 6 tasks at 2 per worker`);
      for (const r of rs) {
        assert.equal(r.count, 1);
        assert.equal(r.value, 7);
      }
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("a module-reference initializer can set module state that module tasks read", T, async () => {
    const pool = tracked(new Pool(1, { initializer: task(fixturesUrl, "moduleInitializer"), initargs: [{ a: [1, 2] }] }));
    try {
      const v = await withTimeout(pool.apply(task(fixturesUrl, "readModuleInitValue")), 30_000, "apply");
      assert.deepEqual(v, { a: [1, 2] });
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("a non-function initializer is a TypeError (POOLINIT-01)", () => {
    assert.throws(() => new Pool(1, { initializer: 1 as unknown as () => void }), TypeError);
    assert.throws(() => new Pool(1, { initializer: "init" as unknown as () => void }), TypeError);
  });

  test("an initializer using an outer binding is refused with SerializationError", async () => {
    const outer = 5;
    let pool: Pool | undefined;
    await assert.rejects(async () => {
      pool = tracked(new Pool(1, { initializer: () => outer }));
      await withTimeout(pool.apply(sqr, [1]), 20_000, "apply");
    }, (err: unknown) => {
      assert.equal((err as Error).name, "SerializationError", errorSummary(err));
      assert.match((err as Error).message, /outer/);
      return true;
    });
    if (pool) await withTimeout(pool.terminate(), 15_000, "terminate");
  });
});

describe("no processes left behind", () => {
  afterEach(terminateTracked);

  test("terminate() ends every worker process", T, async () => {
    const pool = tracked(new Pool(2));
    const pids = [...await poolPids(pool, 2, 20_000)];
    assert.equal(pids.length, 2);
    assert.ok(pids.every(pidAlive));
    await withTimeout(pool.terminate(), 15_000, "terminate");
    await withTimeout(pool.join(), 15_000, "join");
    assert.deepEqual(await waitPidsGone(pids, 10_000), [], "workers still alive after terminate+join");
  });

  test("close() then join() ends every worker process after the work is done", T, async () => {
    const pool = tracked(new Pool(2));
    const pending = pool.mapAsync(pidAfter, [400, 400], { chunksize: 1 });
    pool.close();
    await withTimeout(pool.join(), 30_000, "join");
    const pids = await withTimeout(pending.get(), 1000, "result after join");
    assert.deepEqual(await waitPidsGone(pids, 10_000), [], "workers still alive after close+join");
  });
});
