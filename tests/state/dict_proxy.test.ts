import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DictProxy, PROXY_GATE } from "../../src/state/dict_proxy.ts";
import { Manager } from "../../src/state/manager.ts";
import { Pool } from "../../src/pool.ts";
import { task } from "../../src/task/function_ref.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { SerializationError, StateError } from "../../src/errors.ts";
import { handleRecord, type HandleRecord } from "../../src/state/handle.ts";
import { contextFor, newId } from "../../src/state/redis.ts";
import { DICT_SEED } from "../../src/state/lua/manager.ts";
import process from "node:process";
import type { TestRedisServer } from "../helpers/redis_server.ts";
import { setUpRedis, tearDownRedis } from "../helpers/state_setup.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const tasks = new URL(`./manager_tasks${ext}`, import.meta.url);

/** Another handle of the same dict, as a worker receives it. */
const twin = <T>(h: T): T => decode(encode(h)) as T;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: TestRedisServer;
let manager: Manager;

describe("DictProxy", () => {
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

  test("MGR-05: keys 65..69 mapped to letters; copies, sorted keys, values and entries", async () => {
    const d = manager.dict<string>();
    for (let i = 65; i < 70; i++) await d.set(i, String.fromCharCode(i));
    const expected = new Map([[65, "A"], [66, "B"], [67, "C"], [68, "D"], [69, "E"]]);
    assert.deepEqual(await d.toMap(), expected);
    assert.deepEqual(await d.toObject(), { 65: "A", 66: "B", 67: "C", 68: "D", 69: "E" });
    assert.deepEqual((await d.keys()).sort(), [65, 66, 67, 68, 69]);
    assert.deepEqual((await d.values()).sort(), ["A", "B", "C", "D", "E"]);
    assert.deepEqual(await d.entries(), [...expected]);
    assert.equal(await d.size(), 5);
  });

  test("MGR-07: keys come back in insertion order; re-setting keeps the place, delete + set moves to the end", async () => {
    const d = manager.dict<number>();
    for (const k of ["z", "a", "m", "b"]) await d.set(k, 0);
    assert.deepEqual(await d.keys(), ["z", "a", "m", "b"]);
    await d.set("a", 1);
    assert.deepEqual(await d.keys(), ["z", "a", "m", "b"]);
    assert.equal(await d.delete("z"), true);
    await d.set("z", 2);
    assert.deepEqual(await d.entries(), [["a", 1], ["m", 0], ["b", 0], ["z", 2]]);
  });

  test("a number key and its string are two keys (as in Python); -0 is 0", async () => {
    const d = manager.dict<string>();
    await d.set(1, "number");
    await d.set("1", "string");
    await d.set(-0, "zero");
    await d.set(1.5, "float");
    await d.set(NaN, "nan");
    assert.equal(await d.get(1), "number");
    assert.equal(await d.get("1"), "string");
    assert.equal(await d.get(0), "zero");
    assert.equal(await d.has("0"), false);
    assert.equal(await d.get(1.5), "float");
    assert.equal(await d.get(NaN), "nan");
    assert.deepEqual(await d.keys(), [1, "1", 0, 1.5, NaN]);
    assert.equal(await d.size(), 5);
    await assert.rejects(d.toObject(), (e: unknown) => e instanceof TypeError && /toMap/.test((e as Error).message));
    assert.equal((await d.toMap()).get("1"), "string");
  });

  test("keys that are not strings or numbers are a TypeError, thrown before anything is sent", async () => {
    const d = manager.dict();
    for (const bad of [true, null, undefined, {}, [1], 1n, Symbol("s")]) {
      await assert.rejects(d.set(bad as never, 1), TypeError);
      await assert.rejects(d.get(bad as never), TypeError);
      await assert.rejects(d.has(bad as never), TypeError);
      await assert.rejects(d.delete(bad as never), TypeError);
    }
    await assert.rejects(d.set("\uD800x", 1), /lone surrogate/);
    assert.equal(await d.size(), 0);
  });

  test("get gives undefined or the fallback for a missing key; a stored undefined is kept", async () => {
    const d = manager.dict<unknown>({ nothing: undefined, zero: 0 });
    assert.equal(await d.get("missing"), undefined);
    assert.equal(await d.get("missing", "fallback"), "fallback");
    assert.equal(await d.get("zero", "fallback"), 0);
    assert.equal(await d.get("nothing", "fallback"), undefined);
    assert.equal(await d.has("nothing"), true);
  });

  test("values keep their type through the codec; a value read is a copy", async () => {
    const value = { when: new Date(0), big: 2n ** 70n, set: new Set([1, 2]), bytes: new Uint8Array([1, 2, 3]), nested: { list: [1, "two"] } };
    const d = manager.dict<typeof value>();
    await d.set("v", value);
    const back = (await d.get("v"))!;
    assert.deepEqual(back, value);
    back.nested.list.push(3);
    assert.deepEqual((await d.get("v"))!.nested.list, [1, "two"]);
  });

  test("a value the codec refuses is a SerializationError naming the key, and nothing is written", async () => {
    const d = manager.dict<unknown>({ keep: 1 });
    await assert.rejects(d.set("f", { callback: () => 1 }), (e: unknown) => e instanceof SerializationError && /callback/.test((e as Error).message));
    await assert.rejects(d.update({ ok: 2, bad: () => 1 }), SerializationError);
    await assert.rejects(d.setdefault("g", () => 1), SerializationError);
    assert.deepEqual(await d.entries(), [["keep", 1]]);
    assert.throws(() => manager.dict({ bad: Symbol("x") }), SerializationError);
  });

  test("pop: the value, the fallback, or a RangeError (Python's KeyError) for a missing key", async () => {
    const d = manager.dict<number>({ a: 1, b: 2 });
    assert.equal(await d.pop("a"), 1);
    assert.equal(await d.pop("a", -1), -1);
    assert.equal(await d.pop("a", undefined), undefined);
    await assert.rejects(d.pop("a"), (e: unknown) => e instanceof RangeError && /"a"/.test((e as Error).message));
    assert.deepEqual(await d.entries(), [["b", 2]]);
  });

  test("MGRT-02: popitem takes the newest pair (LIFO); an empty dict is a RangeError", async () => {
    const d = manager.dict<number>([["x", 1], ["y", 2], ["z", 3]]);
    await d.set("x", 10); // keeps its place
    assert.deepEqual(await d.popitem(), ["z", 3]);
    assert.deepEqual(await d.popitem(), ["y", 2]);
    assert.deepEqual(await d.popitem(), ["x", 10]);
    await assert.rejects(d.popitem(), RangeError);
  });

  test("setdefault returns the existing value or sets the fallback, atomically across handles", async () => {
    const d = manager.dict<number>({ have: 1 });
    assert.equal(await d.setdefault("have", 99), 1);
    assert.equal(await d.setdefault("new", 5), 5);
    assert.equal(await d.setdefault("none"), undefined);
    assert.equal(await d.has("none"), true);
    // Racing handles agree on one winner.
    const handles = Array.from({ length: 8 }, () => twin(d));
    const got = await Promise.all(handles.map((h, i) => h.setdefault("race", i)));
    assert.equal(new Set(got).size, 1);
    assert.equal(await d.get("race"), got[0]);
  });

  test("update takes a plain object, a Map, pairs or another dict proxy; a bad pair is a TypeError", async () => {
    const d = manager.dict<number>();
    await d.update({ a: 1 });
    await d.update(new Map<string | number, number>([["b", 2], [3, 3]]));
    await d.update([["a", 10], ["c", 4]]);
    const other = manager.dict<number>({ d: 5, a: 11 });
    await d.update(other);
    assert.deepEqual(await d.entries(), [["a", 11], ["b", 2], [3, 3], ["c", 4], ["d", 5]]);
    await assert.rejects(d.update([["a", 1, 2]] as never), /pair/);
    await assert.rejects(d.update("ab" as never), TypeError);
    await assert.rejects(d.update(null as never), TypeError);
    assert.throws(() => manager.dict(other as never), /toMap/);
    assert.equal(await d.size(), 5);
  });

  test("has, delete, clear and size", async () => {
    const d = manager.dict<number>({ a: 1, b: 2 });
    assert.equal(await d.has("a"), true);
    assert.equal(await d.delete("a"), true);
    assert.equal(await d.delete("a"), false);
    assert.equal(await d.has("a"), false);
    assert.equal(await d.size(), 1);
    await d.clear();
    assert.equal(await d.size(), 0);
    assert.deepEqual(await d.entries(), []);
    await d.set("again", 3);
    assert.deepEqual(await d.toObject(), { again: 3 });
  });

  test("many handles updating different keys at once lose nothing", async () => {
    const d = manager.dict<number>();
    const handles = Array.from({ length: 6 }, () => twin(d));
    await Promise.all(handles.map(async (h, w) => {
      for (let i = 0; i < 25; i++) await h.set(`${w}:${i}`, i);
    }));
    assert.equal(await d.size(), 150);
  });

  test("MGR-08: dicts inside a dict are references; clearing the outer dict leaves them readable", async () => {
    const d = manager.dict<DictProxy<number>>({
      pets: manager.dict({ ferrets: 2, hamsters: 4 }),
      supplies: manager.dict({ water: 10, feed: 3 }),
    });
    assert.equal(await (await d.get("supplies"))!.get("water"), 10);
    const supplies = (await d.get("supplies"))!;
    const pets = (await d.get("pets"))!;
    await (await d.get("supplies"))!.set("blankets", 5);
    assert.equal(await supplies.get("blankets"), 5);
    await supplies.set("water", 7);
    assert.equal(await (await d.get("supplies"))!.get("water"), 7);
    await d.clear();
    assert.equal(await d.size(), 0);
    assert.equal(await supplies.get("water"), 7);
    assert.equal(await pets.get("hamsters"), 4);
  });

  test("a proxy cannot be made with new, and a malformed record is refused", () => {
    const record: HandleRecord = { url: server.url, prefix: "p", session: "s", id: "x", opts: { manager: "m" } };
    assert.throws(() => new DictProxy(Symbol("nope") as never, record), /made by a Manager/);
    const noManager: HandleRecord = { ...record, opts: {} };
    assert.throws(() => new DictProxy(PROXY_GATE, noManager), /no manager id/);
  });

  test("a proxy shipped while its initial content is in flight waits for it in Redis; content that never comes is a StateError", async () => {
    const d = manager.dict<number>({ a: 1 });
    assert.equal(handleRecord(d).opts.pending, true, "shipped at once: marked pending");
    assert.equal(await d.size(), 1);
    assert.equal(handleRecord(d).opts.pending, undefined, "written: no longer pending");

    // Proxies of a dict whose initial content has not been written yet, as
    // another process gets them; the write comes 150 ms later.
    const late: HandleRecord = { ...handleRecord(d), id: newId(), opts: { manager: manager.id, pending: true } };
    const waiters = [0, 1, 2].map(() => new DictProxy<number>(PROXY_GATE, late));
    const t0 = performance.now();
    const reads = waiters.map((w) => w.get("x"));
    await sleep(150);
    const ctx = contextFor(d.location);
    const k = (sub: string) => ctx.key("dict", late.id, sub);
    await ctx.run(DICT_SEED, [k("data"), k("order"), k("ready"), k("down")], ["sx", encode(5)]);
    assert.deepEqual(await Promise.all(reads), [5, 5, 5]);
    assert.ok(performance.now() - t0 >= 140, "the reads waited for the write");
    assert.equal(await ctx.command(["LLEN", k("ready")]), 1, "waiting does not consume the ready mark");
    assert.equal(await new DictProxy<number>(PROXY_GATE, late).get("x"), 5);

    const saved = process.env.SKYPOOL_REDIS_TIMEOUT_MS;
    process.env.SKYPOOL_REDIS_TIMEOUT_MS = "150";
    try {
      const never = new DictProxy(PROXY_GATE, { ...late, id: newId() });
      const t1 = performance.now();
      await assert.rejects(never.size(), (e: unknown) => e instanceof StateError && /did not arrive/.test((e as Error).message));
      assert.ok(performance.now() - t1 >= 250);
      await assert.rejects(never.get("x"), StateError);
    } finally {
      if (saved === undefined) delete process.env.SKYPOOL_REDIS_TIMEOUT_MS;
      else process.env.SKYPOOL_REDIS_TIMEOUT_MS = saved;
    }
  });

  test("the initial content is there at once for a proxy copy and another process", async () => {
    const d = manager.dict<number>({ a: 1, b: 2 });
    assert.deepEqual(await twin(d).entries(), [["a", 1], ["b", 2]]);
    await using pool = new Pool(1);
    const e = manager.dict<number>({ x: 1, y: 2, z: 3 });
    assert.deepEqual(await pool.apply(task(tasks, "readDict"), [e]), [3, [["x", 1], ["y", 2], ["z", 3]]]);
  });

  test("MGRT-02: a worker process reads and changes the dict; the parent sees the result", async () => {
    const d = manager.dict<number>({ foo: 5 });
    await using pool = new Pool(1);
    const seen = await pool.apply(task(tasks, "dictWorkout"), [d]);
    assert.deepEqual(seen, {
      size: 1,
      foo: 5,
      entries: [["foo", 5]],
      keys: ["foo", "bar"],
      popitem: ["bar", 6],
      setdefault: 7,
      pop: 7,
      after: 0,
    });
    assert.equal(await d.size(), 0);
  });

  test("read-modify-write under a manager Lock from two worker processes loses no increment", async () => {
    const d = manager.dict<number>({ n: 0 });
    const lock = manager.Lock();
    await using pool = new Pool(2);
    const done = await pool.starmap(task(tasks, "incrementUnderLock"), [[d, lock, "n", 30], [d, lock, "n", 30], [d, lock, "n", 30], [d, lock, "n", 30]], 1);
    assert.deepEqual(done, [30, 30, 30, 30]);
    assert.equal(await d.get("n"), 120);
  });
});
