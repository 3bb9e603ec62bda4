import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Manager } from "../../src/state/manager.ts";
import { DictProxy } from "../../src/state/dict_proxy.ts";
import { ListProxy } from "../../src/state/list_proxy.ts";
import { NamespaceProxy } from "../../src/state/namespace_proxy.ts";
import { Lock, RLock } from "../../src/state/lock.ts";
import { BoundedSemaphore, Semaphore } from "../../src/state/semaphore.ts";
import { Condition } from "../../src/state/condition.ts";
import { Event } from "../../src/state/event.ts";
import { Barrier } from "../../src/state/barrier.ts";
import { JoinableQueue, Queue } from "../../src/state/queue.ts";
import { Value } from "../../src/state/value.ts";
import { SharedArray } from "../../src/state/shared_array.ts";
import { contextFor } from "../../src/state/redis.ts";
import { Pool } from "../../src/pool.ts";
import { task } from "../../src/task/function_ref.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { config } from "../../src/config.ts";
import { SerializationError, SkypoolError, StateError } from "../../src/errors.ts";
import { freePort, startRedisServer, type TestRedisServer } from "../helpers/redis_server.ts";
import { setUpRedis, tearDownRedis } from "../helpers/state_setup.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const tasks = new URL(`./manager_tasks${ext}`, import.meta.url);

let server: TestRedisServer;

/** Runs `fn` with `SKYPOOL_REDIS_TIMEOUT_MS` set, restoring it after. */
async function withConnectTimeout<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.SKYPOOL_REDIS_TIMEOUT_MS;
  process.env.SKYPOOL_REDIS_TIMEOUT_MS = String(ms);
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.SKYPOOL_REDIS_TIMEOUT_MS;
    else process.env.SKYPOOL_REDIS_TIMEOUT_MS = saved;
  }
}

describe("Manager", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(async () => {
    try {
      assert.deepEqual(await server.keysWithoutTtl(), [], "every key has a TTL");
    } finally {
      await tearDownRedis(server);
    }
  });

  test("factories need a started manager; start twice or after shutdown is a StateError", async () => {
    const m = new Manager();
    assert.equal(m.running, false);
    assert.throws(() => m.dict(), /not started/);
    assert.throws(() => m.Lock(), StateError);
    assert.throws(() => m.location, StateError);
    assert.equal(await m.start(), m);
    assert.equal(m.running, true);
    assert.equal(m.location.url, server.url);
    await assert.rejects(m.start(), /already started/);
    await m.shutdown();
    assert.equal(m.running, false);
    assert.throws(() => m.list(), /shut down/);
    assert.throws(() => m.Queue(), StateError);
    await assert.rejects(m.start(), /shut down/);
    await m.shutdown(); // twice: nothing more to do
    await new Manager().shutdown(); // never started
  });

  test("MYMGR-02: `await using` shuts the manager down at the end of the block", async () => {
    let d: DictProxy<number>;
    {
      await using m = await new Manager().start();
      d = m.dict({ a: 1 });
      assert.equal(await d.get("a"), 1);
    }
    await assert.rejects(d.get("a"), (e: unknown) => e instanceof StateError && /shut down/.test((e as Error).message));
  });

  test("every factory makes its class with the constructor's arguments, where the manager lives", async () => {
    await using m = await new Manager().start();
    const made = [
      [m.dict(), DictProxy],
      [m.list(), ListProxy],
      [m.Namespace(), NamespaceProxy],
      [m.Queue(3), Queue],
      [m.JoinableQueue(), JoinableQueue],
      [m.Lock(), Lock],
      [m.RLock(), RLock],
      [m.Semaphore(2), Semaphore],
      [m.BoundedSemaphore(2), BoundedSemaphore],
      [m.Condition(), Condition],
      [m.Event(), Event],
      [m.Barrier(2, { timeout: 1000 }), Barrier],
      [m.Value("i", 7), Value],
      [m.Array("d", [1.5, 2.5]), SharedArray],
    ] as const;
    for (const [obj, cls] of made) {
      assert.ok(obj instanceof cls, `${cls.name}`);
      assert.deepEqual(obj.location, m.location);
    }
    assert.equal((made[3][0] as Queue).maxsize, 3);
    assert.equal((made[7][0] as Semaphore).initialValue, 2);
    assert.equal(await (made[12][0] as Value<"i">).get(), 7);
    assert.deepEqual(await (made[13][0] as SharedArray<"d">).toArray(), [1.5, 2.5]);
    assert.equal((made[11][0] as Barrier).parties, 2);
    assert.throws(() => m.Semaphore(-1), RangeError);
    assert.throws(() => m.Value("?" as never, 1 as never), TypeError);
    assert.throws(() => m.Barrier(0), RangeError);
  });

  test("objects stay where the manager lives when the configured Redis changes after start", async () => {
    await using m = await new Manager().start();
    config.set({ redis: { url: "redis://127.0.0.1:1" } });
    try {
      const lock = m.Lock();
      const d = m.dict({ k: 1 });
      assert.equal(lock.location.url, server.url);
      assert.equal(await lock.acquire({ block: false }), true);
      await lock.release();
      assert.equal(await d.get("k"), 1);
    } finally {
      config.set({ redis: { url: server.url } });
    }
  });

  test("a Condition gets an RLock of the manager; Value and Array a lock of the manager unless told otherwise", async () => {
    await using m = await new Manager().start();
    const cond = m.Condition();
    assert.ok(cond.lock instanceof RLock);
    assert.deepEqual(cond.lock.location, m.location);
    const given = m.Lock();
    assert.equal(m.Condition(given).lock, given);
    const v = m.Value("i", 1);
    assert.ok(v.getLock() instanceof RLock);
    assert.notEqual(v.getLock().id, v.id);
    assert.throws(() => m.Value("i", 1, { lock: false }).getLock(), StateError);
    assert.equal(m.Value("i", 1, { lock: given }).getLock(), given);
    assert.ok(m.Array("i", 3).getLock() instanceof RLock);
    await cond.acquire();
    assert.equal(await cond.wait(20), false);
    await cond.release();
  });

  test("shutdown deletes every key of the objects it made, and nothing else", async () => {
    const m = await new Manager().start();
    const ctx = contextFor(m.location);
    const all = async () => new Set(await server.keys(`${ctx.namespace}:*`));
    const before = await all();
    const mine = {
      d: m.dict({ a: 1 }),
      l: m.list([1, 2]),
      n: m.Namespace({ x: 1 }),
      q: m.Queue(),
      jq: m.JoinableQueue(),
      lock: m.Lock(),
      rlock: m.RLock(),
      sem: m.Semaphore(3),
      cond: m.Condition(),
      ev: m.Event(),
      bar: m.Barrier(3),
      v: m.Value("i", 5),
      arr: m.Array("i", [1, 2, 3]),
    };
    await mine.q.put("item");
    await mine.jq.put("item");
    await mine.lock.acquire();
    await mine.rlock.acquire();
    await mine.sem.acquire();
    await mine.ev.set();
    await mine.v.set(6);
    await mine.arr.set(0, 9);
    await mine.cond.acquire();
    await mine.cond.wait(10);
    await mine.cond.release();
    await assert.rejects(mine.bar.wait(30), /broke/);
    await mine.d.set("b", 2);
    await mine.n.set("y", 2);
    // Objects that are not the manager's.
    const other = new Lock();
    await other.acquire();
    const otherQ = new Queue<string>();
    await otherQ.put("stays");

    const during = [...await all()].filter((k) => !before.has(k));
    const ids = [...Object.values(mine), mine.cond.lock, mine.v.getLock(), mine.arr.getLock()].map((o) => o.id);
    for (const key of ["d", "l", "n", "q", "jq", "lock", "rlock", "sem", "ev", "bar", "v", "arr"] as const) {
      assert.ok(during.some((k) => k.includes(mine[key].id)), `${key} has keys before the shutdown`);
    }
    assert.ok(during.some((k) => k.includes(mine.cond.lock.id)), "the condition's lock has keys");

    await m.shutdown();
    const left = [...await all()].filter((k) => !before.has(k));
    const tombs = [mine.d, mine.l, mine.n].map((c) => ctx.key(c.kind, c.id, "down"));
    const isTomb = (k: string) => tombs.includes(k);
    assert.deepEqual(left.filter((k) => !isTomb(k) && ids.some((id) => k.includes(id))), [], "no key of the manager's objects is left");
    for (const tomb of tombs) assert.ok(left.includes(tomb), "each container's tombstone is written");
    assert.deepEqual(left.filter((k) => !isTomb(k) && !k.includes(other.id) && !k.includes(otherQ.id)), []);
    assert.equal(await other.locked(), true);
    assert.equal(await otherQ.get({ block: false }), "stays");
    await other.release();
  });

  test("after shutdown the proxies fail with a StateError, here, in copies and in worker processes", async () => {
    const m = await new Manager().start();
    const d = m.dict({ a: 1 });
    const l = m.list([1]);
    const n = m.Namespace({ x: 1 });
    await using pool = new Pool(1);
    assert.equal(await pool.apply(task(tasks, "tryCall"), [d]), "ok");
    await m.shutdown();
    for (const call of [() => d.size(), () => d.set("b", 2), () => l.append(2), () => l.length(), () => n.get("x"), () => n.set("y", 1)]) {
      await assert.rejects(call(), (e: unknown) => e instanceof StateError && /shut down/.test((e as Error).message));
    }
    const copy = decode(encode(l)) as ListProxy;
    await assert.rejects(copy.toArray(), StateError);
    for (const proxy of [d, l]) {
      assert.match(await pool.apply(task(tasks, "tryCall"), [proxy]) as string, /^StateError: .*shut down/);
    }
  });

  test("a manager itself is not shipped to workers", async () => {
    await using m = await new Manager().start();
    assert.throws(() => encode({ m }), SerializationError);
  });

  test("four tasks on Pool(2) appending to a manager list lose nothing", async () => {
    await using m = await new Manager().start();
    const l = m.list<string>();
    await using pool = new Pool(2);
    const n = await pool.starmap(task(tasks, "appendMany"), [[l, "a", 50], [l, "b", 50], [l, "c", 50], [l, "d", 50]], 1);
    assert.deepEqual(n, [50, 50, 50, 50]);
    const all = await l.toArray();
    assert.equal(all.length, 200);
    assert.equal(new Set(all).size, 200);
  });

  test("plain task functions get the proxies too, nested ones included, and their changes are seen here", async () => {
    await using m = await new Manager().start();
    const inner = m.dict<number>({ hits: 0 });
    const outer = m.list<unknown>([inner, [1, 2]]);
    await using pool = new Pool(2);
    const seen = await pool.map(async (args: unknown) => {
      const [list, w] = args as [{ get(i: number): Promise<unknown>; append(v: unknown): Promise<void> }, number];
      const d = (await list.get(0)) as { set(k: string, v: number): Promise<void> };
      await d.set(`worker${w}`, w);
      await list.append(`from ${w}`);
      return Array.isArray(await list.get(1));
    }, [[outer, 1], [outer, 2], [outer, 3]], 1);
    assert.deepEqual(seen, [true, true, true]);
    assert.deepEqual((await inner.keys()).sort(), ["hits", "worker1", "worker2", "worker3"]);
    assert.deepEqual((await outer.slice(2)).sort(), ["from 1", "from 2", "from 3"]);
  });

  test("Redis unreachable: start rejects with a SkypoolError in bounded time, and can be retried", async () => {
    const port = await freePort();
    const m = new Manager();
    config.set({ redis: { url: `redis://127.0.0.1:${port}` } });
    try {
      const t0 = performance.now();
      await withConnectTimeout(600, () => assert.rejects(m.start(), SkypoolError));
      const ms = performance.now() - t0;
      assert.ok(ms < 10_000, `start failed after ${ms} ms`);
      assert.equal(m.running, false);
    } finally {
      config.set({ redis: { url: server.url } });
    }
    await m.start();
    assert.equal(m.running, true);
    await m.shutdown();
  });

  test("initial content that could not be written makes the proxy fail instead of reading as empty", async () => {
    const own = await startRedisServer();
    config.set({ redis: { url: own.url } });
    let m: Manager | undefined;
    try {
      m = await new Manager().start();
      await own.kill();
      const d = await withConnectTimeout(500, async () => {
        const d = m!.dict({ a: 1 });
        await assert.rejects(d.size(), (e: unknown) => e instanceof StateError && /initial content/.test((e as Error).message) && (e as Error).cause instanceof SkypoolError);
        return d;
      });
      await own.restart();
      await assert.rejects(d.get("a"), /initial content of this dict could not be written/);
      // Objects made after Redis is back work.
      const e = m.dict({ b: 2 });
      assert.equal(await e.get("b"), 2);
    } finally {
      await m?.shutdown().catch(() => {});
      config.set({ redis: { url: server.url } });
      await own.stop();
    }
  });
});
