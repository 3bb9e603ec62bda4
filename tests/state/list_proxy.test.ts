import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4.3.0";
import { ListProxy } from "../../src/state/list_proxy.ts";
import { PROXY_GATE } from "../../src/state/dict_proxy.ts";
import type { DictProxy } from "../../src/state/dict_proxy.ts";
import { Manager } from "../../src/state/manager.ts";
import { Pool } from "../../src/pool.ts";
import { Process } from "../../src/process.ts";
import { task } from "../../src/task/function_ref.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { SerializationError } from "../../src/errors.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";
import { handleRecord } from "../../src/state/handle.ts";
import { setUpRedis, tearDownRedis } from "../helpers/state_setup.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const tasks = new URL(`./manager_tasks${ext}`, import.meta.url);

/** Another handle of the same list, as a worker receives it. */
const twin = <T>(h: T): T => decode(encode(h)) as T;

let server: TestRedisServer;
let manager: Manager;

// A model of Python's list semantics for the operations the proxy has.
type Op =
  | { op: "append"; v: number }
  | { op: "extend"; vs: number[] }
  | { op: "insert"; i: number; v: number }
  | { op: "pop"; i?: number }
  | { op: "set"; i: number; v: number }
  | { op: "get"; i: number }
  | { op: "remove"; v: number }
  | { op: "index"; v: number; start?: number; end?: number }
  | { op: "count"; v: number }
  | { op: "slice"; start?: number; end?: number };

function applyModel(a: number[], o: Op): unknown {
  const n = a.length;
  const at = (i: number) => (i < 0 ? i + n : i);
  const bound = (i: number | undefined, dflt: number) => (i === undefined ? dflt : i < 0 ? Math.max(0, i + n) : Math.min(i, n));
  switch (o.op) {
    case "append":
      a.push(o.v);
      return undefined;
    case "extend":
      a.push(...o.vs);
      return undefined;
    case "insert":
      a.splice(bound(o.i, 0), 0, o.v);
      return undefined;
    case "pop": {
      if (n === 0) return "RangeError";
      const j = at(o.i ?? -1);
      return j < 0 || j >= n ? "RangeError" : a.splice(j, 1)[0];
    }
    case "set": {
      const j = at(o.i);
      if (j < 0 || j >= n) return "RangeError";
      a[j] = o.v;
      return undefined;
    }
    case "get": {
      const j = at(o.i);
      return j < 0 || j >= n ? "RangeError" : a[j];
    }
    case "remove": {
      const j = a.indexOf(o.v);
      if (j < 0) return "RangeError";
      a.splice(j, 1);
      return undefined;
    }
    case "index": {
      for (let j = bound(o.start, 0); j < bound(o.end, n); j++) if (a[j] === o.v) return j;
      return "RangeError";
    }
    case "count":
      return a.filter((x) => x === o.v).length;
    case "slice":
      return a.slice(o.start, o.end);
  }
}

async function applyProxy(l: ListProxy<number>, o: Op): Promise<unknown> {
  try {
    switch (o.op) {
      case "append":
        return await l.append(o.v);
      case "extend":
        return await l.extend(o.vs);
      case "insert":
        return await l.insert(o.i, o.v);
      case "pop":
        return o.i === undefined ? await l.pop() : await l.pop(o.i);
      case "set":
        return await l.set(o.i, o.v);
      case "get":
        return await l.get(o.i);
      case "remove":
        return await l.remove(o.v);
      case "index":
        return await l.index(o.v, o.start, o.end);
      case "count":
        return await l.count(o.v);
      case "slice":
        return await l.slice(o.start, o.end);
    }
  } catch (err) {
    if (err instanceof RangeError) return "RangeError";
    throw err;
  }
}

const small = fc.integer({ min: 0, max: 3 });
const index = fc.integer({ min: -8, max: 8 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("append" as const), v: small }),
  fc.record({ op: fc.constant("extend" as const), vs: fc.array(small, { maxLength: 4 }) }),
  fc.record({ op: fc.constant("insert" as const), i: index, v: small }),
  fc.record({ op: fc.constant("pop" as const), i: fc.option(index, { nil: undefined }) }),
  fc.record({ op: fc.constant("set" as const), i: index, v: small }),
  fc.record({ op: fc.constant("get" as const), i: index }),
  fc.record({ op: fc.constant("remove" as const), v: small }),
  fc.record({ op: fc.constant("index" as const), v: small, start: fc.option(index, { nil: undefined }), end: fc.option(index, { nil: undefined }) }),
  fc.record({ op: fc.constant("count" as const), v: small }),
  fc.record({ op: fc.constant("slice" as const), start: fc.option(index, { nil: undefined }), end: fc.option(index, { nil: undefined }) }),
);

describe("ListProxy", () => {
  before(async () => {
    server = await setUpRedis();
    manager = await new Manager().start();
  });
  after(async () => {
    try {
      assert.deepEqual(await server.keysWithoutTtl(), [], "every key has a TTL");
    } finally {
      await manager?.shutdown();
      await tearDownRedis(server);
    }
  });

  test("MGR-01: contents, empty list, extend, indexing, and slices clamped past the end", async () => {
    const a = manager.list(Array.from({ length: 10 }, (_, i) => i));
    assert.deepEqual(await a.toArray(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(await manager.list().toArray(), []);
    const b = manager.list<number>();
    await b.extend([0, 1, 2, 3, 4]);
    assert.equal(await b.get(2), 2);
    assert.deepEqual(await b.slice(2, 10), [2, 3, 4]);
    assert.deepEqual(await b.slice(-2), [3, 4]);
    assert.deepEqual(await b.slice(-100, 2), [0, 1]);
    assert.deepEqual(await b.slice(3, 1), []);
    assert.deepEqual(await b.slice(0, 0), []);
    await b.extend(b); // `b *= 2`
    assert.deepEqual(await b.toArray(), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    assert.deepEqual([...(await b.toArray()), 5, 6], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6]);
    assert.equal(await a.length(), 10);
  });

  test("MGR-01: nested proxies are references, not copies", async () => {
    const a = manager.list<unknown>([1, 2]);
    const b = manager.list<unknown>(["x"]);
    const e = manager.list([a, b]);
    const inner = await e.toArray();
    assert.ok(inner.every((x) => x instanceof ListProxy));
    assert.deepEqual(await Promise.all(inner.map((x) => (x as ListProxy).toArray())), [[1, 2], ["x"]]);
    const f = manager.list([a]);
    await a.append("hello");
    assert.deepEqual(await ((await f.get(0)) as ListProxy).toArray(), [1, 2, "hello"]);
  });

  test("MGR-03: iteration reads the live list", async () => {
    const a = manager.list(Array.from({ length: 10 }, (_, i) => i));
    const all: number[] = [];
    for await (const x of a) all.push(x);
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const it = a[Symbol.asyncIterator]();
    await a.set(0, 100);
    assert.deepEqual(await it.next(), { value: 100, done: false });
    await a.clear();
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  test("MGR-04: a list of list proxies; changing one inner list leaves the others", async () => {
    const a = manager.list([manager.list([0, 1, 2]), manager.list([0, 1, 2]), manager.list([0, 1, 2])]);
    const first = (await a.get(0)) as ListProxy<number>;
    await first.set(-1, 55);
    assert.deepEqual(await ((await a.get(0)) as ListProxy).toArray(), [0, 1, 55]);
    const second = (await a.get(1)) as ListProxy<number>;
    assert.equal(await second.pop(), 2);
    assert.equal(await ((await a.get(1)) as ListProxy).length(), 2);
    assert.equal(await ((await a.get(2)) as ListProxy).length(), 3);
    // A list holding itself can be stored and dropped.
    const self = manager.list<unknown>();
    await self.append(self);
    assert.equal(((await self.get(0)) as ListProxy).id, self.id);
    await self.pop();
    assert.equal(await self.length(), 0);
  });

  test("MGR-08: dicts inside lists stay shared; plain arrays inside are copies", async () => {
    const pets = manager.dict<number>({ ferrets: 2, hamsters: 4 });
    const supplies = manager.dict<number>({ water: 10, feed: 3 });
    const l = manager.list([pets, supplies]);
    await ((await l.get(0)) as DictProxy<number>).set("marmots", 1);
    assert.equal(await pets.get("marmots"), 1);
    const outer = manager.list<unknown>([[88, 99], l]);
    const plain = await outer.get(0);
    assert.ok(Array.isArray(plain) && !(plain instanceof ListProxy));
    assert.deepEqual(plain, [88, 99]);
    const back = (await outer.get(-1)) as ListProxy<DictProxy<number>>;
    assert.equal(await (await back.get(-1)).get("feed"), 3);
  });

  test("get and set with negative indices; out of range is a RangeError", async () => {
    const l = manager.list(["a", "b", "c"]);
    assert.equal(await l.get(-1), "c");
    assert.equal(await l.get(-3), "a");
    await assert.rejects(l.get(3), RangeError);
    await assert.rejects(l.get(-4), RangeError);
    await l.set(-1, "C");
    await assert.rejects(l.set(3, "x"), RangeError);
    await assert.rejects(l.set(-4, "x"), RangeError);
    assert.deepEqual(await l.toArray(), ["a", "b", "C"]);
    await assert.rejects(l.get(1.5), RangeError);
    await assert.rejects(l.get("1" as never), TypeError);
    await assert.rejects(l.slice(0, "2" as never), TypeError);
  });

  test("pop: last by default, any index, RangeError for an empty list or an index out of range", async () => {
    const l = manager.list([0, 1, 2, 3, 4]);
    assert.equal(await l.pop(), 4);
    assert.equal(await l.pop(0), 0);
    assert.equal(await l.pop(1), 2);
    assert.equal(await l.pop(-2), 1);
    await assert.rejects(l.pop(5), /out of range/);
    assert.deepEqual(await l.toArray(), [3]);
    assert.equal(await l.pop(), 3);
    await assert.rejects(l.pop(), /empty/);
  });

  test("insert clamps like Python and keeps equal neighbours apart", async () => {
    const l = manager.list(["x", "x", "x"]);
    await l.insert(1, "y");
    await l.insert(-1, "z");
    await l.insert(100, "end");
    await l.insert(-100, "start");
    assert.deepEqual(await l.toArray(), ["start", "x", "y", "x", "z", "x", "end"]);
  });

  test("remove, index and count compare encoded bytes; a missing value is a RangeError", async () => {
    const l = manager.list<unknown>([1, "1", { a: 1, b: 2 }, [1, 2], 1, null, undefined]);
    assert.equal(await l.count(1), 2);
    assert.equal(await l.count("1"), 1);
    assert.equal(await l.index({ a: 1, b: 2 }), 2);
    await assert.rejects(l.index({ b: 2, a: 1 }), RangeError); // another key order, other bytes
    assert.equal(await l.index([1, 2]), 3);
    assert.equal(await l.index(1, 1), 4);
    assert.equal(await l.index(1, -3), 4);
    await assert.rejects(l.index(1, 1, 4), /not in list/);
    assert.equal(await l.index(undefined), 6);
    assert.equal(await l.index(null), 5);
    await l.remove(1);
    assert.deepEqual(await l.toArray(), ["1", { a: 1, b: 2 }, [1, 2], 1, null, undefined]);
    await assert.rejects(l.remove(42), /not in list/);
    assert.equal(await l.length(), 6);
  });

  test("extend takes iterables and async iterables; a bad item writes nothing", async () => {
    const l = manager.list<number>();
    await l.extend(new Set([1, 2]));
    await l.extend((function* () {
      yield 3;
    })());
    await l.extend((async function* () {
      yield 4;
    })());
    await l.extend([]);
    assert.deepEqual(await l.toArray(), [1, 2, 3, 4]);
    await assert.rejects(l.extend([5, (() => 6) as never]), (e: unknown) => e instanceof SerializationError && /\[1\]/.test((e as Error).message));
    await assert.rejects(l.extend(7 as never), TypeError);
    assert.equal(await l.length(), 4);
    assert.throws(() => manager.list(l as never), /toArray/);
    assert.throws(() => manager.list(3 as never), TypeError);
  });

  test("a proxy cannot be made with new; the codec's record rebuilds one of the same list", async () => {
    const l = manager.list([1]);
    const record = handleRecord(l);
    assert.throws(() => new ListProxy(undefined as never, record), /made by a Manager/);
    const again = new ListProxy<number>(PROXY_GATE, record);
    await again.append(2);
    assert.deepEqual(await l.toArray(), [1, 2]);
  });

  test("random operation sequences match Python's list semantics", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(small, { maxLength: 6 }), fc.array(opArb, { maxLength: 25 }), async (init, ops) => {
        const model = [...init];
        const l = manager.list<number>(init);
        for (const o of ops) {
          const want = applyModel(model, o);
          const got = await applyProxy(l, o);
          assert.deepEqual(got, want, `${JSON.stringify(o)} on ${JSON.stringify(model)}`);
        }
        assert.deepEqual(await l.toArray(), model);
        await l.clear();
      }),
      { numRuns: 40 },
    );
  });

  test("four processes appending at once lose nothing, and each one's items stay in order", async () => {
    const l = manager.list<string>();
    const procs = [0, 1, 2, 3].map((i) => new Process({ target: task(tasks, "appendMany"), args: [l, `p${i}`, 40] }));
    try {
      for (const p of procs) p.start();
      for (const p of procs) await p.join(60_000);
    } finally {
      for (const p of procs) if (p.isAlive()) await p.terminate();
    }
    assert.deepEqual(procs.map((p) => p.exitcode), [0, 0, 0, 0]);
    const all = await l.toArray();
    assert.equal(all.length, 160);
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(all.filter((s) => s.startsWith(`p${i}:`)), Array.from({ length: 40 }, (_, k) => `p${i}:${k}`));
    }
  });

  test("MGRT-01: a worker process reads and changes the list; the parent sees the result", async () => {
    const l = manager.list<number>([5]);
    await using pool = new Pool(1);
    assert.deepEqual(await pool.apply(task(tasks, "listWorkout"), [l]), {
      first: 5,
      count: 1,
      index: 0,
      extended: [5, 7],
      doubled: [5, 7, 5, 7],
      popped: 7,
      after: 0,
    });
    assert.equal(await l.length(), 0);
    assert.equal(await twin(l).length(), 0);
  });

  test("MGR-09: a Queue stored in a list proxy works in a worker", async () => {
    const q = manager.Queue<number>();
    const holder = manager.list([q]);
    await using pool = new Pool(1);
    await pool.apply(task(tasks, "putThroughNested"), [holder, 123]);
    assert.equal(await q.get({ timeout: 5000 }), 123);
  });
});
