// Issue 7 defect 7: an input whose next() breaks the iterator protocol
// (returns 5, null, …) is a prompt TypeError "iterator result is not an
// object", as `for…of` gives, raised where the input's own errors are:
// items before it are still run, and next() is not called again.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { withTimeout } from "../helpers/pool_fixtures.ts";

/** An input yielding `good` items, then `bad` from every later next(); counts the calls. */
function brokenInput(good: number, bad: unknown, kind: "sync" | "async") {
  const input = {
    calls: 0,
    [kind === "sync" ? Symbol.iterator : Symbol.asyncIterator]() {
      return {
        next: () => {
          input.calls++;
          const r = input.calls <= good ? { done: false, value: [input.calls] } : bad;
          return kind === "sync" ? r : Promise.resolve(r);
        },
      };
    },
  };
  return input;
}

type Method = "map" | "starmap" | "mapAsync" | "starmapAsync" | "imap" | "imapUnordered";
const METHODS: Method[] = ["map", "starmap", "mapAsync", "starmapAsync", "imap", "imapUnordered"];

/** Runs `method` of `pool` over `input` with a one-item chunk, and collects what it gave before failing. */
async function run(pool: Pool, method: Method, input: object): Promise<{ values: unknown[]; error: unknown }> {
  const fn = (x: number | number[]) => (Array.isArray(x) ? x[0] : x) * 10;
  const star = (x: number) => x * 10;
  const items = input as Iterable<number[]>;
  const values: unknown[] = [];
  try {
    switch (method) {
      case "imap":
      case "imapUnordered":
        for await (const v of pool[method](fn, items, 1)) values.push(v);
        break;
      case "map":
        values.push(...await pool.map(fn, items, 1));
        break;
      case "starmap":
        values.push(...await pool.starmap(star, items as Iterable<[number]>, 1));
        break;
      case "mapAsync":
        values.push(...await pool.mapAsync(fn, items, { chunksize: 1 }).get());
        break;
      case "starmapAsync":
        values.push(...await pool.starmapAsync(star, items as Iterable<[number]>, { chunksize: 1 }).get());
        break;
    }
    return { values, error: undefined };
  } catch (error) {
    return { values, error };
  }
}

for (const processes of [0, 1]) {
  describe(`iterator protocol, Pool(${processes})`, () => {
    let pool: Pool;
    before(() => {
      pool = new Pool(processes);
    });
    after(async () => {
      await pool.terminate();
    });

    for (const method of METHODS) {
      for (const kind of ["sync", "async"] as const) {
        for (const bad of [5, null, "done", undefined]) {
          test(`${method} over a ${kind} input whose next() returns ${String(bad)} after 2 items fails with a TypeError`, async () => {
            const input = brokenInput(2, bad, kind);
            const { values, error } = await withTimeout(run(pool, method, input), 60_000, method);
            assert.ok(error instanceof TypeError, `expected a TypeError, got ${error}`);
            assert.match(error.message, /iterator result is not an object/);
            assert.match(error.message, bad === "done" ? /"done"/ : new RegExp(String(bad)));
            assert.equal(input.calls, 3, "next() is not called again after the broken result");
            // imap yields what came before the failure; imapUnordered what
            // finished before it (the failure may come first); map gives one error for all.
            if (method === "imap") assert.deepEqual(values, [10, 20]);
            if (method === "imapUnordered") assert.ok(values.every((v) => v === 10 || v === 20), String(values));
            if (!method.startsWith("imap")) assert.deepEqual(values, []);
          });
        }
      }
    }

    test("an iterator method that returns a non-object is refused at the call", () => {
      const input = { [Symbol.iterator]: () => 5 };
      assert.throws(() => pool.imap((x: number) => x, input as never), {
        name: "TypeError",
        message: /imap: the input's iterator method returned 5/,
      });
      assert.throws(() => pool.mapAsync((x: number) => x, { [Symbol.iterator]: () => ({}) } as never), {
        name: "TypeError",
        message: /mapAsync: the input's iterator has no next\(\) method/,
      });
    });
  });
}
