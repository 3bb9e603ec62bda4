// mapReduce: the reducer runs after its map calls, once in all or once per
// object (inputs grouped by url) with objReduceByKey.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FunctionExecutor } from "../../mod.ts";
import { doubleButNotThree, sum } from "../helpers/executor_fixtures.ts";
import { withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };

for (const transport of ["inline", "local"] as const) {
  describe(`FunctionExecutor.mapReduce on ${transport}`, () => {
    const fexec = new FunctionExecutor({ transport, workers: 2 });
    after(() => fexec[Symbol.asyncDispose]());

    test("returns the map futures then the reducer's, which sums the map results after they finish", T, async () => {
      const fs = await fexec.mapReduce((x: number) => x * x, [1, 2, 3, 4], sum, { chunksize: 1 });
      assert.equal(fs.length, 5);
      assert.deepEqual(await withTimeout(fexec.getResult(fs), 60_000, "mapReduce"), [1, 4, 9, 16, 30]);
      const reducer = fs[4].stats;
      for (const f of fs.slice(0, 4)) {
        assert.ok(f.stats.hostResultTime! <= reducer.hostSubmitTime, "the reducer was submitted after each map result arrived");
        assert.ok(f.stats.functionEndTime! <= reducer.functionStartTime!, "the reducer ran after each map call ended");
      }
    });

    test("objReduceByKey runs one reducer per url, over that url's results in input order", T, async () => {
      const items = [{ url: "a", n: 1 }, { url: "b", n: 20 }, { url: "a", n: 300 }, { url: "c", n: 4000 }];
      const fs = await fexec.mapReduce((p: { url: string; n: number }) => p.n, items, (ns: number[]) => ns.join("+"), { objReduceByKey: true });
      assert.equal(fs.length, 4 + 3);
      assert.deepEqual(await withTimeout(fexec.getResult(fs.slice(4)), 60_000, "reducers"), ["1+300", "20", "4000"]);
    });

    test("a reducer whose map calls failed fails with their error, without running", T, async () => {
      const fs = await fexec.mapReduce(doubleButNotThree, [1, 3], sum);
      const values = await withTimeout(fexec.getResult(fs, { throwExcept: false }), 60_000, "mapReduce") as unknown[];
      assert.ok(values[2] instanceof RangeError);
      assert.equal((values[2] as Error).message, "three is refused");
      assert.equal(fs[2].stats.attempts, 0, "the reducer was never tried");
    });

    test("objReduceByKey over inputs without a url is a TypeError before any call", T, async () => {
      await assert.rejects(fexec.mapReduce((x: number) => x, [1], sum, { objReduceByKey: true }), /objReduceByKey groups inputs by their url, but input 0 has no url string/);
    });
  });
}
