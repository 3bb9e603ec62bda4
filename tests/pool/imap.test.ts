// imap / imapUnordered (catalogue POOL-12..15, POOL-18, POOLSRC-03,
// POOLSRC-07, SPEC "iterable ... consumed lazily").
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import {
  collect,
  collectUntilError,
  errorSummary,
  identity,
  SayWhenError,
  sleep,
  sqr,
  sqrOrFail,
  throwingGenerator,
  withTimeout,
} from "../helpers/pool_fixtures.ts";

const T = { timeout: 90_000 };
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const squares = (n: number): number[] => range(n).map((x) => x * x);

describe("Pool.imap and Pool.imapUnordered", () => {
  let pool: Pool;
  before(async () => {
    pool = new Pool(2);
    await withTimeout(pool.map(sqr, [1, 2], 1), 30_000, "warm-up");
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  });

  test("imap yields in input order and then ends (POOL-12)", T, async () => {
    assert.deepEqual(await collect(pool.imap(sqr, range(10)), 20_000, "imap 10"), squares(10));
    const it = pool.imap(sqr, range(10))[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) {
      const step = await withTimeout(it.next(), 10_000, `next ${i}`);
      assert.deepEqual(step, { done: false, value: i * i });
    }
    const end = await withTimeout(it.next(), 10_000, "final next");
    assert.equal(end.done, true);
    assert.deepEqual(await collect(pool.imap(sqr, range(1000), 100), 20_000, "imap 1000/100"), squares(1000));
  });

  test("imap holds back results that finish before earlier ones", T, async () => {
    const sleeper = (ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms));
    assert.deepEqual(await collect(pool.imap(sleeper, [700, 0, 0, 300], 1), 20_000, "imap sleeps"), [700, 0, 0, 300]);
  });

  test("imap yields each result as soon as it and all before it are done", T, async () => {
    const sleeper = (ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms));
    const t0 = Date.now();
    const times: number[] = [];
    const values: number[] = [];
    await withTimeout(
      (async () => {
        for await (const v of pool.imap(sleeper, [0, 2000], 1)) {
          values.push(v);
          times.push(Date.now() - t0);
        }
      })(),
      20_000,
      "imap [0, 2000]",
    );
    assert.deepEqual(values, [0, 2000]);
    assert.ok(times[1] >= 2000 - 50);
    assert.ok(times[1] - times[0] >= 1000, `first value was held back until ${times[0]} ms (second at ${times[1]} ms)`);
  });

  test("imapUnordered yields in completion order", T, async () => {
    const sleeper = (ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms));
    const out = await collect(pool.imapUnordered(sleeper, [1500, 0], 1), 20_000, "imapUnordered");
    assert.deepEqual(out, [0, 1500]);
  });

  test("imapUnordered yields every result exactly once (POOL-14)", T, async () => {
    const a = await collect(pool.imapUnordered(sqr, range(10)), 20_000, "unordered 10");
    assert.deepEqual([...a].sort((x, y) => x - y), squares(10));
    const b = await collect(pool.imapUnordered(sqr, range(1000), 100), 20_000, "unordered 1000/100");
    assert.deepEqual([...b].sort((x, y) => x - y), squares(1000));
  });

  test("empty inputs end with nothing yielded (POOL-18)", T, async () => {
    assert.deepEqual(await collect(pool.imap(sqr, []), 5000, "imap []"), []);
    assert.deepEqual(await collect(pool.imapUnordered(sqr, []), 5000, "imapUnordered []"), []);
  });

  test("imap accepts an async iterable input", T, async () => {
    async function* agen() {
      for (let i = 0; i < 15; i++) {
        await new Promise((r) => setTimeout(r, 2));
        yield i;
      }
    }
    assert.deepEqual(await collect(pool.imap(sqr, agen(), 4), 10_000, "imap async input"), squares(15));
  });

  test("an input error at item 0 is raised by the first next(), as itself, on every call (POOL-13)", T, async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const { values, error } = await collectUntilError(pool.imap(sqr, throwingGenerator(1, -1), 1), 10_000, "imap");
      assert.deepEqual(values, []);
      assert.ok(error instanceof SayWhenError, errorSummary(error));
    }
    const u = await collectUntilError(pool.imapUnordered(sqr, throwingGenerator(1, -1), 1), 10_000, "unordered");
    assert.deepEqual(u.values, []);
    assert.ok(u.error instanceof SayWhenError, errorSummary(u.error));
  });

  test("input error at 3 of 10, chunksize 1: yields 0, 1, 4 then raises (POOL-13)", T, async () => {
    const { values, error } = await collectUntilError(pool.imap(sqr, throwingGenerator(10, 3), 1), 10_000, "imap");
    assert.deepEqual(values, [0, 1, 4]);
    assert.ok(error instanceof SayWhenError, errorSummary(error));
  });

  test("input error at 7 of 20, chunksize 2: exactly 6 values, then raises (POOL-13)", T, async () => {
    const { values, error } = await collectUntilError(pool.imap(sqr, throwingGenerator(20, 7), 2), 10_000, "imap");
    assert.deepEqual(values, squares(6));
    assert.ok(error instanceof SayWhenError, errorSummary(error));
  });

  test("input error at 7 of 20, chunksize 4: exactly 4 values, then raises (POOL-13)", T, async () => {
    const { values, error } = await collectUntilError(pool.imap(sqr, throwingGenerator(20, 7), 4), 10_000, "imap");
    assert.deepEqual(values, squares(4));
    assert.ok(error instanceof SayWhenError, errorSummary(error));
  });

  test("imapUnordered with a failing input raises it after distinct earlier values (POOL-15)", T, async () => {
    for (const [total, when, chunk] of [[10, 3, 1], [20, 7, 2]]) {
      const { values, error } = await collectUntilError(
        pool.imapUnordered(sqr, throwingGenerator(total, when), chunk),
        10_000,
        `unordered ${total}/${when}/${chunk}`,
      );
      assert.ok(error instanceof SayWhenError, errorSummary(error));
      assert.equal(new Set(values).size, values.length, "no duplicates");
      for (const v of values) assert.ok(squares(when).includes(v), `unexpected value ${v}`);
    }
  });

  test("a task error is raised at its position; with chunksize 2 its whole chunk fails (POOLSRC-07)", T, async () => {
    const pairs = (n: number, bad: number) => range(n).map((x) => [x, bad] as [number, number]);
    const starSqrOrFail = (p: [number, number]) => {
      if (p[0] === p[1]) throw new RangeError(`bad item ${p[0]}`);
      return p[0] * p[0];
    };
    const one = await collectUntilError(pool.imap(starSqrOrFail, pairs(10, 3), 1), 10_000, "chunksize 1");
    assert.deepEqual(one.values, [0, 1, 4]);
    assert.ok(one.error instanceof RangeError, errorSummary(one.error));
    assert.match((one.error as Error).message, /bad item 3/);

    const two = await collectUntilError(pool.imap(starSqrOrFail, pairs(20, 7), 2), 10_000, "chunksize 2");
    assert.deepEqual(two.values, squares(6));
    assert.ok(two.error instanceof RangeError, errorSummary(two.error));
  });

  test("the pool stays usable after input and task errors", T, async () => {
    await collectUntilError(pool.imap(sqr, throwingGenerator(5, 2), 1), 10_000, "fail");
    assert.deepEqual(await withTimeout(pool.map(sqr, range(5)), 10_000, "map after"), squares(5));
    assert.deepEqual(await collect(pool.imap(sqrOrFail, range(5), 1), 10_000, "imap after"), squares(5));
  });

  test("imap over a 10-million-item generator pulls only a bounded number when the consumer stops after 50", T, async () => {
    let pulls = 0;
    function* huge() {
      for (let i = 0; i < 10_000_000; i++) {
        pulls++;
        yield i;
      }
    }
    const got: number[] = [];
    await withTimeout(
      (async () => {
        for await (const v of pool.imap(sqr, huge())) {
          got.push(v);
          if (got.length === 50) break;
        }
      })(),
      30_000,
      "imap with break",
    );
    assert.deepEqual(got, squares(50));
    const atBreak = pulls;
    assert.ok(atBreak >= 50);
    assert.ok(atBreak < 10_000, `pulled ${atBreak} items to produce 50 results`);
    await sleep(500);
    assert.ok(pulls < 10_000, `kept pulling after the consumer stopped: ${pulls}`);
    assert.ok(pulls - atBreak < 5_000, `pulled ${pulls - atBreak} more items after the consumer stopped`);

    // the same for imapUnordered
    pulls = 0;
    let n = 0;
    await withTimeout(
      (async () => {
        for await (const _ of pool.imapUnordered(sqr, huge())) if (++n === 50) break;
      })(),
      30_000,
      "imapUnordered with break",
    );
    assert.ok(pulls < 10_000, `imapUnordered pulled ${pulls} items to produce 50 results`);
    assert.deepEqual(await withTimeout(pool.map(sqr, [4]), 10_000, "pool usable after break"), [16]);
  });

  test("chunksize < 1 is a RangeError (POOLSRC-03)", T, async () => {
    for (const c of [0, -1]) {
      await assert.rejects(async () => {
        for await (const _ of pool.imap(sqr, [1, 2], c)) { /* drain */ }
      }, RangeError);
      await assert.rejects(async () => {
        for await (const _ of pool.imapUnordered(sqr, [1, 2], c)) { /* drain */ }
      }, RangeError);
    }
  });

  // Issue 7 defect 1: a release inside the iterator re-entered its serving
  // loop and lost one chunk (the one a full in-flight window before the end).
  describe("every result exactly once, past the in-flight window", () => {
    function* gen(n: number): Generator<number> {
      for (let i = 0; i < n; i++) yield i * 3 + 1;
    }
    const expected = (n: number): number[] => Array.from({ length: n }, (_, i) => i * 3 + 1);
    for (const processes of [0, 1, 2]) {
      test(`Pool(${processes}): imap and imapUnordered over 263, 4099 (chunksize 1) and 25 013 items (chunksize 7)`, T, async () => {
        const p = processes === 2 ? pool : new Pool(processes);
        try {
          for (const [n, chunksize] of [[263, 1], [4099, 1], [25_013, 7]]) {
            const ordered = await collect(p.imap(identity, gen(n), chunksize), 60_000, `imap ${n}`);
            assert.equal(ordered.length, n, `imap of ${n} items delivered ${ordered.length}`);
            assert.deepEqual(ordered, expected(n));
            const unordered = await collect(p.imapUnordered(identity, gen(n), chunksize), 60_000, `imapUnordered ${n}`);
            assert.equal(unordered.length, n, `imapUnordered of ${n} items delivered ${unordered.length}`);
            assert.deepEqual(unordered.sort((a, b) => a - b), expected(n));
          }
        } finally {
          if (p !== pool) await withTimeout(p.terminate(), 15_000, "terminate");
        }
      });
    }
  });
});
