// Issue 7, defect 6: values whose getters or Proxy traps throw, returned or
// thrown by a task, fail that task alone. The worker lives on and runs
// what was queued behind it; a Process reports them as its error.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Pool, Process, SerializationError } from "../../mod.ts";
import { withTimeout } from "../helpers/pool_fixtures.ts";

type Check = (err: unknown) => void;

const isSerializationError = (pattern: RegExp): Check => (err) => {
  assert.ok(err instanceof SerializationError, String(err));
  assert.match(err.message, pattern);
};

/** Each task is shipped by source, so each builds its hostile value itself. */
const HOSTILE: [string, () => unknown, Check][] = [
  [
    "a result whose then getter throws (rejects with what it threw, as await does)",
    () => ({ get then() { throw 41; } }),
    (err) => assert.equal(err, 41),
  ],
  [
    "a thrown object whose message getter throws",
    () => { throw { get message() { throw new Error("getter"); } }; },
    isSerializationError(/threw an object that cannot be serialized/),
  ],
  [
    "a thrown Error whose message getter throws",
    () => {
      const e = new TypeError("hidden");
      Object.defineProperty(e, "message", { get() { throw 5; } });
      throw e;
    },
    isSerializationError(/threw an object that cannot be serialized/),
  ],
  [
    "a thrown Proxy whose every trap throws itself",
    () => {
      const no = (): never => { throw bad; };
      const bad: object = new Proxy({}, { get: no, has: no, ownKeys: no, getPrototypeOf: no, getOwnPropertyDescriptor: no });
      throw bad;
    },
    isSerializationError(/an object that cannot be read/),
  ],
  [
    "a returned Proxy whose traps throw, then aside",
    () => new Proxy({}, {
      get: (_t: object, key: string | symbol) => {
        if (key === "then") return undefined;
        throw new RangeError("trap refuses");
      },
      ownKeys: () => { throw new RangeError("trap refuses"); },
    }),
    isSerializationError(/cannot be serialized.*trap refuses/),
  ],
];

describe("hostile values in a pool", { timeout: 120_000 }, () => {
  test("each fails its own task only; the same worker runs the tasks queued behind it", async () => {
    const pool = new Pool(1);
    try {
      const pid = await withTimeout(pool.apply(() => process.pid), 30_000, "first task");
      for (const [what, fn, check] of HOSTILE) {
        // Submitted together: the next task waits behind the hostile one on the one worker.
        const bad = pool.applyAsync(fn);
        const next = pool.applyAsync((x: number) => [x * 2, process.pid], [21]);
        await assert.rejects(withTimeout(bad.get(), 30_000, what), (err: unknown) => {
          check(err);
          return true;
        }, what);
        assert.deepEqual(await withTimeout(next.get(), 30_000, `after ${what}`), [42, pid], `${what}: the worker was replaced`);
      }
    } finally {
      await pool.terminate();
    }
  });
});

describe("hostile values in a Process target", { timeout: 120_000 }, () => {
  for (const [what, fn, check] of HOSTILE.slice(0, 4)) {
    test(`${what}: exit code 1 and the error reported, not a crash`, async () => {
      // A target's result is awaited, not kept: only a thenable result can fail it.
      const p = new Process({ target: fn });
      p.start();
      await withTimeout(p.join(), 30_000, what);
      assert.equal(p.exitcode, 1);
      check(p.error);
    });
  }
});
