// The inline pool: `new Pool(0)` and `transport: "inline"` run every task
// in the calling thread, in order, calling the function object itself
// (SPEC "Pool"; catalogue 13.1 and LMP-37, LMP-38).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool, StateError } from "../../mod.ts";
import { collect, collectUntilError, errorSummary, SayWhenError, throwingGenerator, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 30_000 };

for (const [label, make] of [
  ["new Pool(0)", () => new Pool(0)],
  ['transport: "inline"', () => new Pool({ transport: "inline" })],
] as [string, () => Pool][]) {
  describe(`inline pool (${label})`, () => {
    test("closures over outer variables work and side effects are visible to the caller", T, async () => {
      await using pool = make();
      const factor = 3;
      const seen: number[] = [];
      const out = await withTimeout(
        pool.map((x: number) => {
          seen.push(x);
          return x * factor;
        }, [1, 2, 3]),
        5000,
        "map",
      );
      assert.deepEqual(out, [3, 6, 9]);
      assert.deepEqual(seen, [1, 2, 3], "tasks ran in input order in this thread");
    });

    test("the function object itself is called: a mock records every call with its arguments", T, async () => {
      await using pool = make();
      const calls: unknown[][] = [];
      const mock = (...args: unknown[]) => {
        calls.push(args);
        return calls.length;
      };
      assert.equal(await pool.apply(mock, ["a", 1]), 1);
      assert.equal(await pool.applyAsync(mock, [{ k: "v" }]).get(1000), 2);
      assert.deepEqual(await pool.starmap(mock, [[1, 2], [3, 4]]), [3, 4]);
      assert.deepEqual(calls, [["a", 1], [{ k: "v" }], [1, 2], [3, 4]]);
    });

    test("tasks run in the calling process, with no worker spawned", T, async () => {
      await using pool = make();
      assert.equal(await pool.apply(() => process.pid), process.pid);
    });

    test("values are not copied: the task sees the caller's objects", T, async () => {
      await using pool = make();
      const obj = { n: 1 };
      await pool.apply((o: { n: number }) => {
        o.n += 1;
      }, [obj]);
      assert.equal(obj.n, 2);
    });

    test("a sync task runs at submission: applyAsync has already run it when it returns (LMP-37)", T, async () => {
      await using pool = make();
      let ran = 0;
      const r = pool.applyAsync(() => ++ran);
      assert.equal(ran, 1);
      assert.equal(await r.get(1000), 1);
      assert.equal(r.ready(), true);
      assert.equal(r.successful(), true);
    });

    test("submission order is run order across apply, map and imap", T, async () => {
      await using pool = make();
      const log: string[] = [];
      const rec = (tag: string) => {
        log.push(tag);
        return tag;
      };
      const a = pool.applyAsync(rec, ["a"]);
      const b = pool.mapAsync(rec, ["b1", "b2"]);
      const c = pool.applyAsync(rec, ["c"]);
      await withTimeout(Promise.all([a.get(), b.get(), c.get()]), 5000, "all");
      assert.deepEqual(log, ["a", "b1", "b2", "c"]);
      assert.deepEqual(await collect(pool.imap(rec, ["d", "e"]), 5000, "imap"), ["d", "e"]);
      assert.deepEqual(await collect(pool.imapUnordered(rec, ["f"]), 5000, "imapUnordered"), ["f"]);
    });

    test("async task functions and async iterables work", T, async () => {
      await using pool = make();
      async function* agen() {
        yield 1;
        yield 2;
      }
      const out = await withTimeout(pool.map(async (x: number) => {
        await new Promise((r) => setTimeout(r, 5));
        return x + 0.5;
      }, agen()), 5000, "map");
      assert.deepEqual(out, [1.5, 2.5]);
    });

    test("errors reject the result with the thrown error's class and message, callbacks fire once", T, async () => {
      await using pool = make();
      await assert.rejects(pool.apply(() => {
        throw new TypeError("inline boom");
      }), (err: unknown) => {
        assert.ok(err instanceof TypeError, errorSummary(err));
        assert.equal((err as Error).message, "inline boom");
        return true;
      });
      const errs: unknown[] = [];
      const oks: unknown[] = [];
      const r = pool.mapAsync((x: number) => {
        if (x === 2) throw new RangeError("two");
        return x;
      }, [1, 2, 3], { callback: (v: number[]) => oks.push(v), errorCallback: (e: unknown) => errs.push(e) });
      await withTimeout(r.wait(), 5000, "wait");
      assert.equal(r.successful(), false);
      assert.equal(errs.length, 1);
      assert.ok(errs[0] instanceof RangeError);
      assert.deepEqual(oks, []);
      const { values, error } = await collectUntilError(
        pool.imap((x: number) => {
          if (x === 2) throw new RangeError("two");
          return x;
        }, [0, 1, 2, 3]),
        5000,
        "imap",
      );
      assert.deepEqual(values, [0, 1]);
      assert.ok(error instanceof RangeError);
      assert.deepEqual(await pool.map((x: number) => -x, [1]), [-1], "the pool goes on");
    });

    test("input-iterable errors propagate as themselves", T, async () => {
      await using pool = make();
      await assert.rejects(async () => await pool.map((x: number) => x, throwingGenerator(5, 2)), SayWhenError);
    });

    test("bad arguments and state errors are the same as for process pools", T, async () => {
      const pool = make();
      await assert.rejects(async () => await pool.map((x: number) => x, [1], 0), RangeError);
      await assert.rejects(async () => await pool.join(), StateError);
      pool.close();
      await assert.rejects(async () => await pool.apply(() => 1), StateError);
      await withTimeout(pool.join(), 5000, "join");
      await withTimeout(pool.terminate(), 5000, "terminate");
      await assert.rejects(async () => await pool.map((x: number) => x, [1]), StateError);
    });
  });
}
