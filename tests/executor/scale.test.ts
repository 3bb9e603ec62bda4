// Exact counts at scale: every input of a large map comes back exactly
// once, in its own slot, whatever the batching.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FunctionExecutor } from "../../mod.ts";
import { withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 300_000 };

describe("FunctionExecutor at scale", () => {
  const fexec = new FunctionExecutor({ transport: "local", workers: 2 });
  after(() => fexec[Symbol.asyncDispose]());

  for (const chunksize of [undefined, 1, 7]) {
    test(`a map of 5000 items (chunksize ${chunksize ?? "default"}) gives every result exactly once, in its slot`, T, async () => {
      const n = 5000;
      const fs = await fexec.map((x: number) => ({ x, twice: x * 2 }), Array.from({ length: n }, (_, i) => i), { chunksize });
      assert.equal(fs.length, n);
      const values = await withTimeout(fexec.getResult(fs), 240_000, "map of 5000") as { x: number; twice: number }[];
      assert.equal(values.length, n);
      const seen = new Set<number>();
      values.forEach((v, i) => {
        assert.equal(v.x, i);
        assert.equal(v.twice, 2 * i);
        seen.add(v.x);
      });
      assert.equal(seen.size, n);
      assert.ok(fs.every((f) => f.status === "success" && f.stats.attempts === 1));
    });
  }

  test("an async generator of 3000 items is read whole and mapped in order", T, async () => {
    async function* items() {
      for (let i = 0; i < 3000; i++) yield i;
    }
    const fs = await fexec.map((x: number) => x + 1, items(), { chunksize: 64 });
    const values = await withTimeout(fexec.getResult(fs), 240_000, "async map") as number[];
    assert.deepEqual(values, Array.from({ length: 3000 }, (_, i) => i + 1));
  });
});
