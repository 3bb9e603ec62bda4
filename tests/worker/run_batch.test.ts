import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { runBatch, runOnce } from "../../src/worker/run_batch.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { Status } from "../../src/transport/wire.ts";
import { SerializationError } from "../../src/errors.ts";

describe("runBatch", () => {
  test("a synchronous function runs synchronously over every argument list, in order", () => {
    const seen: number[] = [];
    const r = runBatch((a: unknown, b: unknown) => {
      seen.push(a as number);
      return (a as number) * (b as number);
    }, encode([[2, 3], [4, 5], [6, 7]]));
    assert.ok(!(r instanceof Promise));
    assert.equal(r.status, Status.OK);
    assert.deepEqual(decode(r.payload), [6, 20, 42]);
    assert.deepEqual(seen, [2, 4, 6]);
  });

  test("an async function is awaited item by item, keeping the order", async () => {
    const order: number[] = [];
    const r = runBatch(async (x: unknown) => {
      await new Promise((res) => setTimeout(res, 5 - (x as number)));
      order.push(x as number);
      return (x as number) + 100;
    }, encode([[1], [2], [3]]));
    assert.ok(r instanceof Promise);
    const out = await r;
    assert.equal(out.status, Status.OK);
    assert.deepEqual(decode(out.payload), [101, 102, 103]);
    assert.deepEqual(order, [1, 2, 3]);
  });

  test("the first throw ends the chunk and is encoded as the chunk's error", () => {
    const ran: number[] = [];
    const r = runBatch((x: unknown) => {
      ran.push(x as number);
      if (x === 2) throw new RangeError("two");
      return x;
    }, encode([[1], [2], [3]])) as { status: number; payload: Uint8Array };
    assert.equal(r.status, Status.THREW);
    assert.deepEqual(ran, [1, 2]);
    const err = decode(r.payload) as Error;
    assert.equal(err.message, "two");
  });

  test("a rejection after a synchronous prefix fails the chunk too", async () => {
    const r = await runBatch((x: unknown) => (x === 3 ? Promise.reject(new Error("late")) : x), encode([[1], [2], [3], [4]]));
    assert.equal(r.status, Status.THREW);
    assert.equal((decode(r.payload) as Error).message, "late");
  });

  test("a result the codec refuses is UNSERIALIZABLE with a message", () => {
    const r = runBatch(() => ({ f: () => 1 }), encode([[]])) as { status: number; payload: Uint8Array };
    assert.equal(r.status, Status.UNSERIALIZABLE);
    assert.ok(new TextDecoder().decode(r.payload).length > 0);
  });

  test("runOnce awaits the function and reports OK or the error", async () => {
    let got: unknown[] = [];
    // deno-lint-ignore require-await -- an async task function is what this checks
    const ok = await runOnce(async (...args: unknown[]) => {
      got = args;
    }, encode(["a", 1]));
    assert.equal(ok.status, Status.OK);
    assert.deepEqual(got, ["a", 1]);
    const bad = await runOnce(() => {
      throw new TypeError("init");
    }, encode([]));
    assert.equal(bad.status, Status.THREW);
    assert.equal((decode(bad.payload) as Error).message, "init");
  });
});

describe("runBatch with hostile values", () => {
  const trapsThrow = (thrown: () => unknown) =>
    new Proxy({}, {
      get: () => { throw thrown(); },
      getPrototypeOf: () => { throw thrown(); },
      ownKeys: () => { throw thrown(); },
      getOwnPropertyDescriptor: () => { throw thrown(); },
      has: () => { throw thrown(); },
    });

  test("a result whose then getter throws fails the task with what it threw, as await would", () => {
    const r = runBatch(() => ({ get then() { throw 7; } }), encode([[]])) as { status: number; payload: Uint8Array };
    assert.equal(r.status, Status.THREW);
    assert.equal(decode(r.payload), 7);
  });

  test("a thrown object whose message getter throws becomes a SerializationError naming what it threw", () => {
    const r = runBatch(() => {
      throw { get message() { throw "boom"; } };
    }, encode([[]])) as { status: number; payload: Uint8Array };
    assert.equal(r.status, Status.THREW);
    const err = decode(r.payload);
    assert.ok(err instanceof SerializationError, String(err));
    assert.match(err.message, /threw an object that cannot be serialized.*boom/);
  });

  test("a thrown Error whose message getter throws, and one whose toPrimitive throws too, fail cleanly", () => {
    const e = new Error("hidden");
    Object.defineProperty(e, "message", { get() { throw 3; } });
    const withPrimitive = { [Symbol.toPrimitive]() { throw 9; }, get message() { throw 10; } };
    for (const thrown of [e, withPrimitive]) {
      const r = runBatch(() => { throw thrown; }, encode([[]])) as { status: number; payload: Uint8Array };
      assert.equal(r.status, Status.THREW);
      assert.ok(decode(r.payload) instanceof SerializationError);
    }
  });

  test("a thrown Proxy whose every trap throws (itself) becomes a SerializationError", () => {
    const bad: object = trapsThrow(() => bad);
    const r = runBatch(() => { throw bad; }, encode([[]])) as { status: number; payload: Uint8Array };
    assert.equal(r.status, Status.THREW);
    const err = decode(r.payload) as Error;
    assert.ok(err instanceof SerializationError);
    assert.match(err.message, /an object that cannot be read/);
  });

  test("a returned Proxy whose traps throw except for then is UNSERIALIZABLE with the trap's message", () => {
    const proxy = new Proxy({}, {
      get: (_t, key) => {
        if (key === "then") return undefined;
        throw new RangeError("trap says no");
      },
      ownKeys: () => { throw new RangeError("trap says no"); },
    });
    const r = runBatch(() => proxy, encode([[]])) as { status: number; payload: Uint8Array };
    assert.equal(r.status, Status.UNSERIALIZABLE);
    assert.match(new TextDecoder().decode(r.payload), /trap says no/);
  });

  test("a hostile value after an await fails only its own chunk", async () => {
    // deno-lint-ignore require-await -- an async task function is what this checks
    const r = await runBatch(async (x: unknown) => (x === 2 ? { get then() { throw 8; } } : x), encode([[1], [2], [3]]));
    assert.equal(r.status, Status.THREW);
    assert.equal(decode(r.payload), 8);
    // deno-lint-ignore require-await -- an async task function is what this checks
    const next = await runBatch(async (x: unknown) => x, encode([[4]]));
    assert.deepEqual(decode(next.payload), [4]);
  });

  test("runOnce (Process targets, initializers) survives a thrown Proxy", async () => {
    const bad: object = trapsThrow(() => bad);
    const r = await runOnce(() => { throw bad; }, encode([]));
    assert.equal(r.status, Status.THREW);
    assert.ok(decode(r.payload) instanceof SerializationError);
  });
});
