// How errors cross the process boundary and which ones never leave the
// caller (catalogue POOL-07, POOL-09, POOL-20, POOL-21, POOLERR-02;
// SPEC "Errors", "Shipping functions").
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool, RemoteError, SerializationError, SkypoolError, StateError, task } from "../../mod.ts";
import {
  errorSummary,
  identity,
  pidAfter,
  returnUnserializable,
  SayWhenError,
  sqr,
  throwCustomErrorMarker,
  throwingGenerator,
  throwNonError,
  throwTypeErrorMarker,
  withTimeout,
} from "../helpers/pool_fixtures.ts";

const T = { timeout: 90_000 };

/** Every place a remote stack may be kept (own stack, cause, remoteStack). */
function allStacks(err: unknown): string {
  const e = err as { stack?: string; remoteStack?: string; cause?: { stack?: string; message?: string } };
  return [e.stack, e.remoteStack, e.cause?.stack, e.cause?.message].filter(Boolean).join("\n");
}

describe("errors from tasks", () => {
  let pool: Pool;
  before(() => {
    pool = new Pool(1);
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  });

  test("a built-in TypeError comes back as TypeError with the remote stack (POOL-20, POOL-21)", T, async () => {
    await assert.rejects(
      withTimeout(pool.apply(throwTypeErrorMarker, ["wrong type"]), 30_000, "apply"),
      (err: unknown) => {
        assert.ok(err instanceof TypeError, errorSummary(err));
        assert.equal(err.message, "wrong type");
        assert.match(allStacks(err), /throwTypeErrorMarker/, "the worker's stack frame is kept");
        return true;
      },
    );
  });

  test("other built-in classes keep their class too", T, async () => {
    const throwers: Array<[() => unknown, new (...a: never[]) => Error]> = [
      [() => {
        throw new RangeError("r");
      }, RangeError],
      [() => JSON.parse("{nope"), SyntaxError],
      [() => {
        throw new Error("plain");
      }, Error],
      [() => (globalThis as unknown as { undefinedFn: () => void }).undefinedFn(), TypeError],
    ];
    for (const [fn, cls] of throwers) {
      await assert.rejects(withTimeout(pool.apply(fn), 10_000, cls.name), (err: unknown) => {
        assert.ok(err instanceof cls, `expected ${cls.name}, got ${errorSummary(err)}`);
        assert.ok(!(err instanceof RemoteError), "built-in errors are not wrapped in RemoteError");
        return true;
      });
    }
  });

  test("a skypool error thrown by a task module that imports skypool itself comes back as that class", T, async () => {
    // On Node the worker runs a bundle of skypool's modules: this proves the
    // task's skypool and the worker's share the error classes.
    const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
    const ref = task(new URL(`./fixtures/skypool_errors${ext}`, import.meta.url), "throwStateError");
    await assert.rejects(withTimeout(pool.apply(ref, ["held elsewhere"]), 20_000, "apply"), (err: unknown) => {
      assert.ok(err instanceof StateError, `expected StateError, got ${errorSummary(err)}`);
      assert.equal((err as Error).message, "held elsewhere");
      return true;
    });
  });

  test("a custom error class comes back as RemoteError keeping name, message and stack", T, async () => {
    await assert.rejects(
      withTimeout(pool.apply(throwCustomErrorMarker, ["custom message"]), 10_000, "apply"),
      (err: unknown) => {
        assert.ok(err instanceof RemoteError, errorSummary(err));
        assert.ok(err instanceof SkypoolError);
        assert.equal(err.remoteName, "SayWhenCustomError");
        assert.equal(err.message, "custom message");
        assert.match(err.remoteStack, /throwCustomErrorMarker/);
        return true;
      },
    );
  });

  test("throwing a non-Error value rejects and the pool goes on", T, async () => {
    await assert.rejects(withTimeout(pool.apply(throwNonError), 10_000, "apply"), (err: unknown) => {
      assert.ok(!(err instanceof Error && /timed out after/.test(err.message)));
      assert.match(err instanceof Error ? err.message : String(err), /a plain string/);
      return true;
    });
    assert.equal(await withTimeout(pool.apply(sqr, [3]), 10_000, "after"), 9);
  });

  test("20 unserializable results in a row each reject with SerializationError and the worker survives (POOLERR-02)", T, async () => {
    const pidBefore = await withTimeout(pool.apply(pidAfter, [0]), 10_000, "pid before");
    for (let i = 0; i < 20; i++) {
      const errs: unknown[] = [];
      const r = pool.applyAsync(returnUnserializable, [], { errorCallback: (e: unknown) => errs.push(e) });
      await assert.rejects(withTimeout(r.get(), 10_000, `round ${i}`), (err: unknown) => {
        assert.ok(err instanceof SerializationError, `round ${i}: ${errorSummary(err)}`);
        return true;
      });
      assert.equal(errs.length, 1, `round ${i}: errorCallback called once`);
      assert.ok(errs[0] instanceof SerializationError);
    }
    const pidAfterAll = await withTimeout(pool.apply(pidAfter, [0]), 10_000, "pid after");
    assert.equal(pidAfterAll, pidBefore, "the same worker still serves the pool");
    assert.deepEqual(await withTimeout(pool.map(sqr, [1, 2, 3]), 10_000, "map after"), [1, 4, 9]);
  });

  test("an unserializable result inside map fails the job and names the path", T, async () => {
    const sometimesFn = (x: number): unknown => (x === 2 ? { nested: [() => x] } : x);
    await assert.rejects(withTimeout(pool.map(sometimesFn, [1, 2, 3]), 10_000, "map"), (err: unknown) => {
      assert.ok(err instanceof SerializationError, errorSummary(err));
      assert.match((err as Error).message, /nested/);
      return true;
    });
  });

  test("unserializable arguments reject with SerializationError naming the path, without hanging (POOL-07)", T, async () => {
    const withFn = Array.from({ length: 10 }, () => ({ payload: 1, cb: () => 1 }));
    await assert.rejects(withTimeout(Promise.resolve().then(() => pool.map(identity, withFn)), 10_000, "map"), (err: unknown) => {
      assert.ok(err instanceof SerializationError, errorSummary(err));
      assert.match((err as Error).message, /cb/);
      return true;
    });
    class Point {
      constructor(readonly x: number) {}
      norm(): number {
        return Math.abs(this.x);
      }
    }
    await assert.rejects(
      withTimeout(Promise.resolve().then(() => pool.apply(identity, [new Point(3)])), 10_000, "apply"),
      SerializationError,
    );
    await assert.rejects(
      withTimeout(Promise.resolve().then(() => pool.applyAsync(identity, [{ s: Symbol("x") }]).get()), 10_000, "symbol"),
      SerializationError,
    );
    assert.equal(await withTimeout(pool.apply(sqr, [4]), 10_000, "after"), 16);
  });
});

describe("errors from the input iterable stay local", () => {
  let pool: Pool;
  before(() => {
    pool = new Pool(2);
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  });

  test("map raises the generator's own error, again on a second call (POOL-09, POOL-20)", T, async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      await assert.rejects(
        withTimeout(Promise.resolve().then(() => pool.map(sqr, throwingGenerator(1, -1), 1)), 20_000, "map"),
        (err: unknown) => {
          assert.ok(err instanceof SayWhenError, errorSummary(err));
          assert.ok(!(err instanceof RemoteError));
          return true;
        },
      );
    }
    await assert.rejects(
      withTimeout(Promise.resolve().then(() => pool.map(sqr, throwingGenerator(10, 3), 1)), 20_000, "map at 3"),
      SayWhenError,
    );
  });

  test("an iterable whose iterator throws on next() raises that error, twice (POOL-09)", T, async () => {
    const thrown = new SayWhenError("from next()");
    const weird = {
      length: 1,
      [Symbol.iterator]() {
        return {
          next(): IteratorResult<number> {
            throw thrown;
          },
        };
      },
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      await assert.rejects(
        withTimeout(Promise.resolve().then(() => pool.map(sqr, weird, 1)), 20_000, "map weird"),
        (err: unknown) => {
          assert.ok(err instanceof SayWhenError, errorSummary(err));
          assert.equal((err as Error).message, "from next()");
          return true;
        },
      );
    }
  });

  test("mapAsync, starmap and an async generator raise the input's error too", T, async () => {
    await assert.rejects(
      withTimeout(
        Promise.resolve().then(() => pool.mapAsync(sqr, throwingGenerator(10, 4), { chunksize: 2 }).get()),
        20_000,
        "mapAsync",
      ),
      SayWhenError,
    );
    function* pairs() {
      yield [1, 2];
      throw new SayWhenError("pairs");
    }
    await assert.rejects(
      withTimeout(Promise.resolve().then(() => pool.starmap((a: number, b: number) => a + b, pairs())), 20_000, "starmap"),
      SayWhenError,
    );
    async function* agen() {
      yield 1;
      await new Promise((r) => setTimeout(r, 5));
      throw new SayWhenError("async");
    }
    await assert.rejects(
      withTimeout(Promise.resolve().then(() => pool.map(sqr, agen())), 20_000, "async generator"),
      (err: unknown) => err instanceof SayWhenError && err.message === "async",
    );
  });

  test("the pool stays usable after input errors", T, async () => {
    assert.deepEqual(await withTimeout(pool.map(sqr, [1, 2, 3, 4, 5]), 20_000, "map after"), [1, 4, 9, 16, 25]);
  });
});

describe("functions that cannot be shipped are refused at submit", () => {
  let pool: Pool;
  before(() => {
    pool = new Pool(1);
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  });

  const factorFromOuterScope = 3;

  test("a function using an outer binding is a SerializationError naming it", T, async () => {
    const usesOuter = (x: number) => x * factorFromOuterScope;
    const check = (err: unknown) => {
      assert.ok(err instanceof SerializationError, errorSummary(err));
      assert.match((err as Error).message, /factorFromOuterScope/);
      return true;
    };
    await assert.rejects(async () => await pool.apply(usesOuter, [2]), check);
    await assert.rejects(async () => await pool.map(usesOuter, [1, 2]), check);
    await assert.rejects(async () => await pool.applyAsync(usesOuter, [2]).get(5000), check);
    await assert.rejects(async () => {
      for await (const _ of pool.imap(usesOuter, [1])) { /* drain */ }
    }, check);
  });

  test("an imported helper counts as an outer binding", T, async () => {
    const usesImport = (x: number) => sqr(x);
    await assert.rejects(async () => await pool.apply(usesImport, [2]), (err: unknown) => {
      assert.ok(err instanceof SerializationError, errorSummary(err));
      assert.match((err as Error).message, /sqr/);
      return true;
    });
  });

  test("bound, native and class-method functions are refused", T, async () => {
    const bound = function (this: { k: number }, x: number) {
      return x + this.k;
    }.bind({ k: 1 });
    await assert.rejects(async () => await pool.apply(bound, [1]), SerializationError);
    // A native function with no global name has no source to ship. (Standard
    // built-ins such as Math.sqrt are shipped by name by function_ref.ts.)
    await assert.rejects(async () => await pool.apply(Array.prototype.push, [4]), SerializationError);
    class Calc {
      double(x: number): number {
        return x * 2;
      }
    }
    await assert.rejects(async () => await pool.apply(new Calc().double, [2]), SerializationError);
  });

  test("refusal happens before the input is read, and the pool goes on", T, async () => {
    let pulled = 0;
    function* counted(): Generator<number> {
      for (let i = 0; i < 10; i++) {
        pulled++;
        yield i;
      }
    }
    const usesOuter = (x: number) => x * factorFromOuterScope;
    await assert.rejects(async () => await pool.map(usesOuter, counted()), SerializationError);
    await assert.rejects(async () => await pool.starmap(usesOuter, (function* () {
      for (const x of counted()) yield [x];
    })()), SerializationError);
    await assert.rejects(async () => {
      for await (const _ of pool.imapUnordered(usesOuter, counted())) { /* drain */ }
    }, SerializationError);
    assert.equal(pulled, 0, `the input was read (${pulled} items) before the refusal`);
    assert.equal(await withTimeout(pool.apply((x: number) => x + 1, [1]), 20_000, "after refusals"), 2);
  });
});
