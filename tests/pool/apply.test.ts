// Pool.apply / Pool.applyAsync behaviour (catalogue POOL-01, POOL-10,
// POOLERR-01, LMP-02..07, LMP-14), plus module references (SPEC "Shipping
// functions", form 2).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool, RemoteError, task } from "../../mod.ts";
import {
  describeArgs,
  errorSummary,
  fixturesUrl,
  identity,
  mul,
  poolPids,
  sqr,
  throwCustomErrorMarker,
  timedSleep,
  withTimeout,
} from "../helpers/pool_fixtures.ts";

const T = { timeout: 60_000 };

describe("Pool.apply and Pool.applyAsync", () => {
  let pool: Pool;
  before(() => {
    pool = new Pool(2);
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  });

  test("apply returns the task's result (POOL-01, LMP-02, LMP-03)", T, async () => {
    assert.equal(await withTimeout(pool.apply(sqr, [5]), 30_000, "apply(sqr, [5])"), 25);
    assert.equal(await withTimeout(pool.apply(mul, [3, 4]), 10_000, "apply(mul)"), 12);
    const squares: number[] = [];
    for (let x = 0; x < 5; x++) squares.push(await withTimeout(pool.apply(sqr, [x]), 10_000, "apply loop"));
    assert.deepEqual(squares, [0, 1, 4, 9, 16]);
  });

  test("apply without arguments calls the function with none", T, async () => {
    const argc = await withTimeout(pool.apply((...a: unknown[]) => a.length), 10_000, "apply()");
    assert.equal(argc, 0);
    assert.equal(await withTimeout(pool.apply(() => "no args", []), 10_000, "apply([])"), "no args");
  });

  test("sync, async, arrow, function-expression and dynamic-import tasks all ship by source", T, async () => {
    const results = await withTimeout(
      Promise.all([
        pool.apply((a: number, b: number) => a - b, [10, 4]),
        pool.apply(async (a: number) => {
          await new Promise((r) => setTimeout(r, 10));
          return a + 0.5;
        }, [1]),
        pool.apply(function named(s: string) {
          return s.toUpperCase();
        }, ["abc"]),
        pool.apply(async (n: number) => {
          const os = await import("node:os");
          return typeof os.cpus === "function" ? n : -1;
        }, [3]),
      ]),
      20_000,
      "mixed function forms",
    );
    assert.deepEqual(results, [6, 1.5, "ABC", 3]);
  });

  test("arguments and results keep their types across the process boundary", T, async () => {
    const when = new Date("2024-02-29T12:34:56.789Z");
    const value = {
      date: when,
      map: new Map<unknown, unknown>([["k", 1], [2, [3]]]),
      set: new Set(["a", "b"]),
      big: 12345678901234567890n,
      bytes: new Uint8Array([0, 1, 254, 255]),
      nothing: undefined,
      nested: [{ deep: [null, true, -0.5] }],
    };
    const back = await withTimeout(pool.apply(identity, [value]), 10_000, "apply(identity)");
    assert.deepEqual(back, value);
    assert.ok(back.date instanceof Date && back.date.getTime() === when.getTime());
    assert.ok(back.map instanceof Map);
    assert.equal(typeof back.big, "bigint");
    assert.ok("nothing" in back, "an undefined property survives");

    const kinds = await withTimeout(
      pool.apply(describeArgs, [when, new Map(), new Set(), 1n, new Uint8Array(2), undefined, [1]]),
      10_000,
      "apply(describeArgs)",
    );
    assert.deepEqual(kinds, ["Date", "Map", "Set", "bigint", "Uint8Array", "undefined", "Array"]);
  });

  test("applyAsync returns at once and two tasks run at the same time on two workers (POOL-10, LMP-07)", T, async () => {
    assert.equal((await poolPids(pool, 2, 20_000)).size, 2, "both workers are up");
    const t0 = Date.now();
    const a = pool.applyAsync(timedSleep, [1000]);
    const b = pool.applyAsync(timedSleep, [1000]);
    const submitMs = Date.now() - t0;
    assert.ok(submitMs < 1000, `applyAsync blocked for ${submitMs} ms`);
    const [ra, rb] = await withTimeout(Promise.all([a.get(), b.get()]), 20_000, "two timed sleeps");
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1000 - 50, `finished after only ${elapsed} ms`);
    assert.notEqual(ra.pid, rb.pid, "the two tasks ran on different workers");
    assert.ok(ra.start < rb.end && rb.start < ra.end, `sleeps did not overlap: ${JSON.stringify([ra, rb])}`);
    assert.ok(ra.end - ra.start >= 1000 - 50);
  });

  test("applyAsync callback runs once with the result, before get() settles (POOLSRC-06)", T, async () => {
    const seen: unknown[] = [];
    const errors: unknown[] = [];
    const r = pool.applyAsync(sqr, [7, 50], {
      callback: (v: number) => seen.push(v),
      errorCallback: (e: unknown) => errors.push(e),
    });
    assert.equal(await withTimeout(r.get(), 10_000, "get"), 49);
    assert.deepEqual(seen, [49], "callback already called once when get() resolved");
    assert.deepEqual(errors, []);
    assert.equal(await r.get(), 49);
    assert.deepEqual(seen, [49], "a second get() does not call the callback again");
  });

  test("errorCallback runs once with the error before get() rejects (POOLERR-01)", T, async () => {
    const seen: unknown[] = [];
    const errors: unknown[] = [];
    const r = pool.applyAsync(throwCustomErrorMarker, ["key"], {
      callback: (v: unknown) => seen.push(v),
      errorCallback: (e: unknown) => errors.push(e),
    });
    await assert.rejects(withTimeout(r.get(), 10_000, "get"), (err: unknown) => {
      assert.ok(err instanceof RemoteError, errorSummary(err));
      assert.equal(errors.length, 1, "errorCallback called exactly once before get() rejected");
      assert.equal(errors[0], err, "errorCallback received the same error get() rejects with");
      return true;
    });
    assert.deepEqual(seen, []);
    assert.equal(r.successful(), false);
  });

  test("a module reference runs the named export, which may use its module scope", T, async () => {
    assert.equal(
      await withTimeout(pool.apply(task(fixturesUrl, "scaleByModuleConstant"), [3]), 20_000, "module ref"),
      21,
    );
    assert.equal(
      await withTimeout(pool.apply(task(new URL(fixturesUrl), "scaleByModuleConstant"), [2]), 20_000, "URL form"),
      14,
    );
    const mapped = await withTimeout(
      pool.map(task(fixturesUrl, "scaleByModuleConstant"), [1, 2, 3, 4], 1),
      20_000,
      "map of a module ref",
    );
    assert.deepEqual(mapped, [7, 14, 21, 28]);
  });

  test("task(url) without an export name calls the default export", T, async () => {
    assert.equal(await withTimeout(pool.apply(task(fixturesUrl), ["z"]), 20_000, "default export"), "default:z");
  });

  test("a module reference to a missing export rejects with a TypeError naming it, and the pool goes on", T, async () => {
    await assert.rejects(
      withTimeout(Promise.resolve().then(() => pool.apply(task(fixturesUrl, "noSuchExport"), [1])), 20_000, "missing"),
      (err: unknown) => {
        // The worker's TypeError comes back as itself (a built-in error class).
        assert.ok(err instanceof TypeError, errorSummary(err));
        assert.match((err as Error).message, /has no export named "noSuchExport"/);
        return true;
      },
    );
    assert.equal(await withTimeout(pool.apply(sqr, [9]), 10_000, "after missing export"), 81);
  });

  test("bad arguments are TypeErrors at the call", T, async () => {
    const p = pool as unknown as { apply(fn: unknown, args?: unknown): Promise<unknown>; applyAsync(fn: unknown, args?: unknown): unknown };
    await assert.rejects(async () => await p.apply("not a function", []), TypeError);
    await assert.rejects(async () => await p.apply(42, []), TypeError);
    await assert.rejects(async () => await p.apply(sqr, 5), TypeError);
    assert.throws(() => p.applyAsync(null, []), TypeError);
    assert.equal(await withTimeout(pool.apply(sqr, [3]), 10_000, "still usable"), 9);
  });
});
