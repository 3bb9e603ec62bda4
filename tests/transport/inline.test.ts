import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InlineTransport } from "../../src/transport/inline.ts";
import type { InProcessOutcome } from "../../src/transport/transport.ts";

function runChunk(t: InlineTransport, fn: (...a: never[]) => unknown, argLists: unknown[][]): Promise<InProcessOutcome> {
  return new Promise((resolve) => t.runChunk(fn as (...a: unknown[]) => unknown, argLists, resolve));
}

describe("inline transport", () => {
  test("a synchronous function runs inside runChunk and reports before it returns", () => {
    const t = new InlineTransport();
    const calls: unknown[][] = [];
    let outcome: InProcessOutcome | undefined;
    t.runChunk((...args: unknown[]) => {
      calls.push(args);
      return args.length;
    }, [[1], [2, 3]], (o) => (outcome = o));
    assert.deepEqual(calls, [[1], [2, 3]]);
    assert.deepEqual(outcome, { status: "ok", values: [1, 2] });
  });

  test("the caller's objects are passed as they are, not copied", () => {
    const t = new InlineTransport();
    const obj = { n: 1 };
    t.runChunk((o: { n: number }) => o.n++, [[obj]], () => {});
    assert.equal(obj.n, 2);
  });

  test("a chunk submitted after an async one waits for it: run order is submission order", async () => {
    const t = new InlineTransport();
    const order: string[] = [];
    const slow = runChunk(t, async (x: string) => {
      await new Promise((r) => setTimeout(r, 30));
      order.push(x);
    }, [["async-1"], ["async-2"]]);
    const fast = runChunk(t, (x: string) => order.push(x), [["sync-after"]]);
    assert.deepEqual(order, [], "the sync chunk must not overtake the pending async one");
    await Promise.all([slow, fast]);
    assert.deepEqual(order, ["async-1", "async-2", "sync-after"]);
    // Once idle again, a sync chunk runs at submission.
    let ran = false;
    t.runChunk(() => (ran = true), [[]], () => {});
    assert.equal(ran, true);
  });

  test("a throw ends the chunk with the thrown value itself", async () => {
    const t = new InlineTransport();
    const boom = new RangeError("x");
    const seen: number[] = [];
    const o = await runChunk(t, (x: number) => {
      seen.push(x);
      if (x === 2) throw boom;
    }, [[1], [2], [3]]);
    assert.deepEqual(o, { status: "threw", error: boom });
    assert.deepEqual(seen, [1, 2]);
  });

  test("the initializer runs once, first; if it throws, every chunk fails with its error", async () => {
    const log: string[] = [];
    const t = new InlineTransport();
    t.start({ fn: (v: string) => void log.push(`init ${v}`), args: ["a"] });
    await runChunk(t, () => log.push("task"), [[], []]);
    assert.deepEqual(log, ["init a", "task", "task"]);
    const bad = new InlineTransport();
    const err = new Error("init failed");
    bad.start({
      fn: () => {
        throw err;
      },
      args: [],
    });
    assert.deepEqual(await runChunk(bad, () => 1, [[]]), { status: "threw", error: err });
  });
});
