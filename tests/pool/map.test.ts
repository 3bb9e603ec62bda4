// map / mapAsync / starmap / starmapAsync (catalogue POOL-02..06, POOL-18,
// POOL-22, POOLSRC-04, POOLSRC-06, MPI-02, RAY-04, RAY-05, LMP-16..28).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool, RemoteError } from "../../mod.ts";
import {
  errorSummary,
  makeTempDir,
  markThenSleep,
  mul,
  removeDir,
  sleepThenThrow,
  sqr,
  sqrOrFail,
  withTimeout,
} from "../helpers/pool_fixtures.ts";

const T = { timeout: 90_000 };
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe("Pool.map family", () => {
  let pool: Pool;
  before(() => {
    pool = new Pool(2);
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  });

  test("map returns an Array in input order (POOL-02, LMP-16)", T, async () => {
    const out = await withTimeout(pool.map(sqr, range(10)), 30_000, "map range(10)");
    assert.ok(Array.isArray(out));
    assert.deepEqual(out, range(10).map((x) => x * x));
  });

  test("map with an explicit chunksize reassembles chunks by index (POOL-02)", T, async () => {
    const xs = range(100);
    assert.deepEqual(await withTimeout(pool.map(sqr, xs, 20), 20_000, "chunksize 20"), xs.map((x) => x * x));
    assert.deepEqual(await withTimeout(pool.map(sqr, xs, 7), 20_000, "chunksize 7"), xs.map((x) => x * x));
    assert.deepEqual(await withTimeout(pool.map(sqr, xs, 1000), 20_000, "chunksize > n"), xs.map((x) => x * x));
  });

  test("map keeps input order when later items finish first", T, async () => {
    const out = await withTimeout(
      pool.map((ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)), [600, 300, 0, 0], 1),
      20_000,
      "reversed sleeps",
    );
    assert.deepEqual(out, [600, 300, 0, 0]);
  });

  test("map accepts any iterable: Set, generator, async generator, string", T, async () => {
    assert.deepEqual(await withTimeout(pool.map(sqr, new Set([3, 1, 2])), 10_000, "Set"), [9, 1, 4]);
    function* gen() {
      for (let i = 0; i < 25; i++) yield i;
    }
    assert.deepEqual(await withTimeout(pool.map(sqr, gen()), 10_000, "generator"), range(25).map((x) => x * x));
    async function* agen() {
      for (let i = 0; i < 12; i++) {
        await new Promise((r) => setTimeout(r, 1));
        yield i;
      }
    }
    assert.deepEqual(await withTimeout(pool.map(sqr, agen(), 5), 10_000, "async generator"), range(12).map((x) => x * x));
    assert.deepEqual(
      await withTimeout(pool.map((c: string) => c.charCodeAt(0), "abc"), 10_000, "string"),
      [97, 98, 99],
    );
  });

  test("map over an unsized iterable starts work before the iterable is exhausted", T, async () => {
    // The generator pauses after 10 items until a task has run (it writes a
    // marker file). An implementation that drained the generator before
    // dispatching anything would leave it waiting here until the bound.
    const dir = await makeTempDir("skypool-map-lazy-");
    try {
      const marker = `${dir}/started`;
      let starved = false;
      let pulls = 0;
      const args = async function* (): AsyncGenerator<[string, number]> {
        const fs = await import("node:fs");
        for (let i = 0; i < 40; i++) {
          if (i === 10) {
            const deadline = Date.now() + 15_000;
            while (!fs.existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
            starved = !fs.existsSync(marker);
          }
          pulls++;
          yield [marker, 0];
        }
      };
      const pids = await withTimeout(pool.starmap(markThenSleep, args(), 1), 40_000, "starmap over a pausing generator");
      assert.equal(pids.length, 40);
      assert.equal(pulls, 40);
      assert.equal(starved, false, "no task ran before the generator was drained");
    } finally {
      await removeDir(dir);
    }
  });

  test("starmap spreads argument arrays, in order (POOL-03, LMP-25)", T, async () => {
    const pairs10 = range(10).map((i) => [i, 9 - i] as [number, number]);
    assert.deepEqual(await withTimeout(pool.starmap(mul, pairs10), 10_000, "starmap 10"), pairs10.map(([a, b]) => a * b));
    const pairs100 = range(100).map((i) => [i, 99 - i] as [number, number]);
    assert.deepEqual(
      await withTimeout(pool.starmap(mul, pairs100, 20), 10_000, "starmap 100/20"),
      pairs100.map(([a, b]) => a * b),
    );
    assert.deepEqual(await withTimeout(pool.starmap(mul, [[1, 2], [3, 4]]), 10_000, "LMP-25"), [2, 12]);
  });

  test("starmapAsync and mapAsync give the ordered list (POOL-04, POOL-05, LMP-21, LMP-27)", T, async () => {
    const pairs = range(100).map((i) => [i, i + 1] as [number, number]);
    assert.deepEqual(
      await withTimeout(pool.starmapAsync(mul, pairs).get(), 10_000, "starmapAsync"),
      pairs.map(([a, b]) => a * b),
    );
    assert.deepEqual(await withTimeout(pool.mapAsync(sqr, range(10)).get(), 10_000, "mapAsync"), range(10).map((x) => x * x));
    assert.deepEqual(
      await withTimeout(pool.mapAsync(sqr, range(50), { chunksize: 8 }).get(), 10_000, "mapAsync chunksize"),
      range(50).map((x) => x * x),
    );
  });

  test("empty inputs give empty lists (POOL-18)", T, async () => {
    assert.deepEqual(await withTimeout(pool.map(sqr, []), 5000, "map []"), []);
    assert.deepEqual(await withTimeout(pool.starmap(mul, []), 5000, "starmap []"), []);
    assert.deepEqual(await withTimeout(pool.mapAsync(sqr, []).get(), 5000, "mapAsync []"), []);
    function* none(): Generator<number> {}
    assert.deepEqual(await withTimeout(pool.map(sqr, none()), 5000, "map empty generator"), []);
  });

  test("mapAsync calls callback once with the whole list, errorCallback once with an instance (POOL-06, MPI-02)", T, async () => {
    const parseInt10 = (s: string): number => {
      const n = Number.parseInt(s, 10);
      if (Number.isNaN(n)) throw new TypeError(`invalid literal: ${s}`);
      return n;
    };
    const log: [string, unknown][] = [];
    const ok = pool.mapAsync(parseInt10, ["1", "2"], {
      callback: (v: number[]) => log.push(["ok", v]),
      errorCallback: (e: unknown) => log.push(["err", e]),
    });
    await withTimeout(ok.wait(), 10_000, "ok wait");
    assert.equal(ok.successful(), true);
    assert.deepEqual(log, [["ok", [1, 2]]]);

    const bad = pool.mapAsync(parseInt10, ["a"], {
      callback: (v: number[]) => log.push(["ok", v]),
      errorCallback: (e: unknown) => log.push(["err", e]),
    });
    await withTimeout(bad.wait(), 10_000, "bad wait");
    assert.equal(bad.successful(), false);
    assert.equal(log.length, 2);
    const [kind, err] = log[1];
    assert.equal(kind, "err");
    assert.ok(err instanceof TypeError, errorSummary(err));
    assert.match((err as Error).message, /invalid literal: a/);
  });

  test("with several failing chunks, errorCallback runs exactly once; on success callback gets all items (RAY-05)", T, async () => {
    const failOn = (x: number): number => {
      if (x === 13 || x === 47 || x === 88) throw new RangeError(`fail ${x}`);
      return x;
    };
    const errs: unknown[] = [];
    const oks: unknown[] = [];
    const r = pool.mapAsync(failOn, range(100), {
      chunksize: 1,
      callback: (v: number[]) => oks.push(v),
      errorCallback: (e: unknown) => errs.push(e),
    });
    await withTimeout(r.wait(), 30_000, "failing mapAsync");
    assert.equal(errs.length, 1, "errorCallback called once per job, not per chunk");
    assert.ok(errs[0] instanceof RangeError);
    assert.match((errs[0] as Error).message, /^fail (13|47|88)$/);
    assert.equal(oks.length, 0);

    const good = pool.mapAsync((x: number) => x, range(100), {
      chunksize: 3,
      callback: (v: number[]) => oks.push(v),
      errorCallback: (e: unknown) => errs.push(e),
    });
    await withTimeout(good.wait(), 30_000, "good mapAsync");
    assert.equal(oks.length, 1, "callback called once per job, not per chunk");
    assert.deepEqual(oks[0], range(100));
    assert.equal(errs.length, 1);
  });

  test("a failing job settles only after its slowest chunk, and 1 MiB errors do not deadlock (POOL-22, POOLSRC-06)", T, async () => {
    const big = 1 << 20;
    let callbackAt = -1;
    let calls = 0;
    const t0 = Date.now();
    const r = pool.starmapAsync(sleepThenThrow, [[0, big], [1000, big]], {
      chunksize: 1,
      errorCallback: () => {
        calls++;
        callbackAt = Date.now() - t0;
      },
    });
    const err = await withTimeout(r.get(), 20_000, "get").then(() => null, (e: unknown) => e);
    const elapsed = Date.now() - t0;
    assert.ok(err instanceof RangeError, errorSummary(err));
    assert.ok((err as Error).message.length >= big, "the large message arrived whole");
    assert.ok(elapsed >= 1000 - 50, `rejected after ${elapsed} ms: did not wait for the slower failing chunk`);
    assert.equal(calls, 1);
    assert.ok(callbackAt >= 1000 - 50, `errorCallback ran after ${callbackAt} ms, before the slower chunk finished`);

    const t1 = Date.now();
    await assert.rejects(
      withTimeout(pool.starmap(sleepThenThrow, [[0, big], [800, big]], 1), 20_000, "map variant"),
      RangeError,
    );
    assert.ok(Date.now() - t1 >= 800 - 50, "map failed fast instead of waiting for every chunk");
  });

  test("map rejects only after a slow successful chunk finishes, not at the first failure", T, async () => {
    const slowOrFail = async (ms: number, fail: boolean): Promise<number> => {
      await new Promise((r) => setTimeout(r, ms));
      if (fail) throw new RangeError("fast failure");
      return ms;
    };
    const t0 = Date.now();
    await assert.rejects(
      withTimeout(pool.starmap(slowOrFail, [[0, true], [900, false]], 1), 20_000, "starmap"),
      /fast failure/,
    );
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 900 - 50, `rejected after ${elapsed} ms`);
  });

  test("with two failing tasks, map rejects with one of them (LMP-24)", T, async () => {
    const raiseOn = (x: number): number => {
      if (x === 1) throw new RangeError("Task 1");
      if (x === 3) throw new TypeError("Task 3");
      return x;
    };
    const err = await withTimeout(pool.mapAsync(raiseOn, [0, 1, 2, 3], { chunksize: 1 }).get(), 10_000, "get").then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(
      (err instanceof RangeError && (err as Error).message === "Task 1") ||
        (err instanceof TypeError && (err as Error).message === "Task 3"),
      errorSummary(err),
    );
  });

  test("a task failing at index 50 of 1000 fails the job (RAY-04, LMP-18, LMP-26)", T, async () => {
    const r = pool.mapAsync(sqrOrFail, range(1000).map((x) => x), { chunksize: 10 });
    // sqrOrFail takes (x, bad): with map only x is passed, bad is undefined: all succeed.
    assert.deepEqual(await withTimeout(r.get(), 20_000, "no failure"), range(1000).map((x) => x * x));
    const failing = pool.starmapAsync(sqrOrFail, range(1000).map((x) => [x, 50] as [number, number]));
    await withTimeout(failing.wait(), 20_000, "failing wait");
    assert.equal(failing.successful(), false);
    await assert.rejects(failing.get(), /bad item 50/);
    await assert.rejects(
      withTimeout(
        pool.starmap((a: number, b: number) => {
          if (b === 0) throw new RangeError("division by zero");
          return a / b;
        }, [[1, 2], [3, 0]]),
        10_000,
        "divide",
      ),
      RangeError,
    );
  });

  test("a custom error class thrown in map comes back as RemoteError", T, async () => {
    const custom = (x: number): number => {
      class AssertionFailure extends Error {
        constructor(m: string) {
          super(m);
          this.name = "AssertionFailure";
        }
      }
      if (x > 0) throw new AssertionFailure(`x=${x}`);
      return x;
    };
    await assert.rejects(withTimeout(pool.map(custom, [0, 1]), 10_000, "map custom"), (err: unknown) => {
      assert.ok(err instanceof RemoteError, errorSummary(err));
      assert.equal(err.remoteName, "AssertionFailure");
      assert.equal(err.message, "x=1");
      return true;
    });
  });

  test("bad chunksize or iterable is a RangeError/TypeError at the call (POOLSRC-03)", T, async () => {
    const p = pool as unknown as {
      map(fn: unknown, it: unknown, c?: unknown): Promise<unknown>;
      mapAsync(fn: unknown, it: unknown, o?: unknown): unknown;
      starmap(fn: unknown, it: unknown, c?: unknown): Promise<unknown>;
    };
    await assert.rejects(async () => await p.map(sqr, [1, 2], 0), RangeError);
    await assert.rejects(async () => await p.map(sqr, [1, 2], -3), RangeError);
    await assert.rejects(async () => await p.map(sqr, [1, 2], "2"), TypeError);
    await assert.rejects(async () => await p.map(sqr, 5), TypeError);
    await assert.rejects(async () => await p.starmap(mul, null), TypeError);
    assert.throws(() => p.mapAsync(sqr, [1], { chunksize: 0 }), RangeError);
    assert.deepEqual(await withTimeout(pool.map(sqr, [2, 3]), 10_000, "still usable"), [4, 9]);
  });
});

// More chunks than any in-flight window (issue 14): every result exactly once, in order.
describe("map and starmap deliver every result exactly once at scale", () => {
  const T_SCALE = { timeout: 120_000 };
  for (const processes of [0, 2]) {
    test(`Pool(${processes}): map and mapAsync over 40 009 items in 13 337 chunks, starmap over 9 001 pairs in 9 001 chunks`, T_SCALE, async () => {
      const pool = new Pool(processes);
      try {
        const n = 40_009;
        const items = Array.from({ length: n }, (_, i) => i * 7 - 3);
        const mapped = await withTimeout(pool.map((x: number) => x + 0.5, items, 3), 100_000, "map");
        assert.equal(mapped.length, n);
        assert.deepEqual(mapped, items.map((x) => x + 0.5));
        const viaAsync = await withTimeout(pool.mapAsync((x: number) => -x, items, { chunksize: 3 }).get(), 100_000, "mapAsync");
        assert.deepEqual(viaAsync, items.map((x) => -x));
        const pairs = Array.from({ length: 9_001 }, (_, i) => [i, i % 13] as [number, number]);
        const starred = await withTimeout(pool.starmap((a: number, b: number) => a * 100 + b, pairs, 1), 100_000, "starmap");
        assert.deepEqual(starred, pairs.map(([a, b]) => a * 100 + b));
      } finally {
        await withTimeout(pool.terminate(), 15_000, "terminate");
      }
    });
  }
});
