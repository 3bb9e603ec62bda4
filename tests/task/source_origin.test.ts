// A shipped function's frames in a worker's stack name the file and line
// where it was written, as a local stack would: the submit side finds
// where the function is (sourceOrigin), the worker compiles it there.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool, RemoteError } from "../../mod.ts";
import { sourceOrigin } from "../../src/task/source_origin.ts";
import { errorSummary, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 90_000 };
const FILE = import.meta.url.slice(import.meta.url.lastIndexOf("/") + 1);

/** `file:line` of the top frame of `stack` that is in this file (Deno writes `file, <anonymous>:line` for eval'd code). */
function lineInThisFile(stack: string | undefined): number | undefined {
  const m = stack?.match(new RegExp(`/${FILE.replace(/\./g, "\\.")}(?:, <anonymous>)?:(\\d+):\\d+`));
  return m ? Number(m[1]) : undefined;
}

/** Where `fn` throws when called here: the line a remote stack must show too. */
function localThrowLine(fn: (...a: never[]) => unknown): number {
  try {
    fn();
  } catch (err) {
    const line = lineInThisFile((err as Error).stack);
    assert.ok(line !== undefined, `no frame of ${FILE} in ${(err as Error).stack}`);
    return line;
  }
  assert.fail("the function did not throw");
}

function failsOnItsThirdLine(): never {
  const x = 1;
  throw new Error(`plain failure ${x}`);
}

describe("remote stacks point at the user's code", () => {
  let pool: Pool;
  before(() => {
    pool = new Pool(1);
  });
  after(async () => {
    await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  });

  test("a built-in error's stack names this file and the throwing line", T, async () => {
    const line = localThrowLine(failsOnItsThirdLine);
    await assert.rejects(withTimeout(pool.apply(failsOnItsThirdLine), 30_000, "apply"), (err: unknown) => {
      assert.ok(err instanceof Error, errorSummary(err));
      assert.equal(lineInThisFile(err.stack), line, err.stack);
      assert.doesNotMatch(err.stack!, /eval at compile/);
      return true;
    });
  });

  test("a RemoteError's remote stack names this file and the throwing line, down to nested functions", T, async () => {
    const failsInside = (n: number) => {
      class ShippedFailure extends Error {}
      const inner = (k: number) => {
        if (k > 0) throw new ShippedFailure(`custom ${k}`);
      };
      inner(n);
    };
    const line = localThrowLine(() => failsInside(1));
    await assert.rejects(withTimeout(pool.apply(failsInside, [1]), 30_000, "apply"), (err: unknown) => {
      assert.ok(err instanceof RemoteError, errorSummary(err));
      assert.equal(err.remoteName, "ShippedFailure");
      assert.equal(lineInThisFile(err.remoteStack), line, err.remoteStack);
      return true;
    });
  });

  test("a one-line function written at the call names the calling line", T, async () => {
    let shipped: (n: number) => never = () => assert.fail("not shipped");
    const keep = (fn: (n: number) => never) => (shipped = fn);
    const callLine = lineInThisFile(new Error().stack)! + 1;
    const result = pool.apply(keep((n: number) => { throw new RangeError(`one-liner ${n}`); }), [1]);
    // Deno re-prints the function over several lines when it strips the types: the throw is then that many lines lower.
    const printedBelow = shipped.toString().split("\n").findIndex((l) => l.includes("throw"));
    await assert.rejects(withTimeout(result, 30_000, "apply"), (err: unknown) => {
      assert.ok(err instanceof RangeError, errorSummary(err));
      assert.equal(lineInThisFile(err.stack), callLine + printedBelow, err.stack);
      return true;
    });
  });
});

describe("sourceOrigin", () => {
  test("finds a multi-line function in the calling file, at its line", () => {
    const at = localThrowLine(failsOnItsThirdLine);
    const origin = sourceOrigin(failsOnItsThirdLine.toString());
    assert.ok(origin !== undefined);
    assert.ok(origin.url.endsWith(`/${FILE}`), origin.url);
    assert.equal(origin.line + 2, at, "the function starts two lines above its throw");
  });

  test("a source written nowhere on the call stack has no origin", () => {
    const made = new Function("return (k) => {\n  const nowhere = 'made by new Function ' + k;\n  return nowhere;\n}")();
    assert.equal(sourceOrigin(made.toString()), undefined);
  });
});
