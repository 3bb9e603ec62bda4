import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Barrier, BoundedSemaphore, Condition, config, Event, Lock, Pool, RLock, Semaphore, SkypoolError, StateError } from "../../mod.ts";
import { decode, encode } from "../../src/task/codec.ts";
import {
  clientOptions,
  contextFor,
  defaultContext,
  defineScript,
  newId,
  redactUrl,
  sessionId,
  workerEnvironment,
} from "../../src/state/redis.ts";
import { commandTimeoutMs } from "../../src/state/redis_connection.ts";
import { runChild } from "../helpers/child.ts";
import { freePort, type TestRedisServer } from "../helpers/redis_server.ts";
import { LOOSE, setUpRedis, since, sleep, SLACK, tearDownRedis, wire } from "../helpers/state_setup.ts";

let server: TestRedisServer;

const ECHO = defineScript({
  name: "test.echo",
  keys: ["a", "b"],
  lua: `
redis.call('SET', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
if ARGV[3] == 'fail' then return redis.error_reply('STATE refused on purpose') end
return {redis.call('GET', KEYS[1]), TTL, #ARGV}
`,
});

const VARIADIC = defineScript({ name: "test.variadic", keys: ["first", "rest..."], lua: "return #KEYS" });

describe("redis layer", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(() => tearDownRedis(server));

  test("keys live under {prefix}:{session}:{kind}:{id}[:{sub}]", () => {
    const ctx = contextFor({ url: server.url, prefix: "pre", session: "s1" });
    assert.equal(ctx.namespace, "pre:s1");
    assert.equal(ctx.key("lock", "abc"), "pre:s1:{lock:abc}");
    assert.equal(ctx.key("queue", "q1", "items"), "pre:s1:{queue:q1}:items");
    assert.equal(contextFor({ url: server.url, prefix: "pre", session: "s1" }), ctx);
    assert.throws(() => ctx.key("", "x"), TypeError);
    assert.throws(() => contextFor({ url: server.url, prefix: "p", session: "a:b" }), TypeError);
    assert.notEqual(newId(), newId());
    assert.match(sessionId(), /^[^:\\s]+$/);
  });

  test("URLs: redis://, rediss://, unix sockets with db and password; others refused", () => {
    assert.deepEqual(clientOptions("redis://u:p@h:7000/2"), { url: "redis://u:p@h:7000/2" });
    assert.deepEqual(clientOptions("rediss://h"), { url: "rediss://h" });
    assert.deepEqual(clientOptions("unix:///tmp/x/redis.sock?db=3&password=pw"), {
      socket: { path: "/tmp/x/redis.sock" },
      password: "pw",
      database: 3,
    });
    assert.deepEqual(clientOptions("unix://me:secret@/run/r.sock"), { socket: { path: "/run/r.sock" }, username: "me", password: "secret" });
    assert.throws(() => clientOptions("http://h:6379"), TypeError);
    assert.equal(redactUrl("redis://u:secret@h:1"), "redis://u:***@h:1");
    assert.ok(!redactUrl("unix:///s.sock?password=secret").includes("secret"));
  });

  test("scripts: ARGV as passed, TTL on every key, STATE errors, key count checked", async () => {
    config.setParameter("REDIS_EXPIRY_TIME", 120);
    try {
      const ctx = defaultContext();
      const a = ctx.key("test", newId());
      const b = ctx.key("test", newId(), "list");
      assert.deepEqual(await ctx.run(ECHO, [a, b], ["v1", "x"]), ["v1", 120, 2]);
      for (const key of [a, b]) {
        const ttl = await server.command<number>(["TTL", key]);
        assert.ok(ttl > 100 && ttl <= 120, `${key} ttl ${ttl}`);
      }
      await assert.rejects(ctx.run(ECHO, [a, b], ["v", "y", "fail"]), (e: Error) => e instanceof StateError && e.message === "refused on purpose");
      await assert.rejects(ctx.run(ECHO, [a], []), TypeError);
      assert.equal(await ctx.run(VARIADIC, [a, b, a], []), 3);
      assert.throws(() => defineScript({ name: "", keys: [], lua: "return 1" }), TypeError);
    } finally {
      config.reset();
      config.set({ redis: { url: server.url } });
    }
  });

  test("scripts are loaded again after SCRIPT FLUSH (NOSCRIPT fallback)", async () => {
    const ctx = defaultContext();
    const a = ctx.key("test", newId());
    await ctx.run(ECHO, [a, a + ":l"], ["1", "2"]);
    await server.command(["SCRIPT", "FLUSH"]);
    assert.deepEqual((await ctx.run<unknown[]>(ECHO, [a, a + ":l"], ["3", "4"]))[0], "3");
  });

  test("blpop: timeout <= 0 never blocks, fractional timeouts, undefined waits for a push", async () => {
    const ctx = defaultContext();
    const key = ctx.key("test", newId());
    let t0 = performance.now();
    assert.equal(await ctx.blpop([key], 0), null);
    assert.equal(await ctx.blpop([key], -5), null);
    assert.ok(since(t0) < 300);
    t0 = performance.now();
    assert.equal(await ctx.blpop([key], 150), null);
    const took = since(t0);
    assert.ok(took >= 150 - SLACK && took < 150 + LOOSE, `took ${took}`);
    const waiting = ctx.blpop([key], undefined);
    await sleep(100);
    await ctx.command(["RPUSH", key, "hello"]);
    assert.deepEqual(await waiting, [key, "hello"]);
    await ctx.command(["RPUSH", key, new Uint8Array([0, 255, 1])]);
    const got = await ctx.blpop([key], 1000, { binary: true });
    assert.deepEqual([...(got![1] as Uint8Array)], [0, 255, 1]);
  });

  test("a blocked command does not stall the shared connection", async () => {
    const ctx = defaultContext();
    const key = ctx.key("test", newId());
    const blocked = ctx.blpop([key], 1500);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) assert.equal(await ctx.command(["PING"]), "PONG");
    assert.ok(since(t0) < 1000, `PINGs took ${since(t0)} ms behind a BLPOP`);
    assert.equal(await blocked, null);
  });

  test("pub/sub on a namespaced channel", async () => {
    const ctx = defaultContext();
    const got: string[] = [];
    const unsubscribe = await ctx.subscribe("news", (m) => got.push(m.toString()));
    assert.equal(await ctx.publish("news", "one"), 1);
    const t0 = performance.now();
    while (got.length === 0 && since(t0) < 5000) await sleep(10);
    assert.deepEqual(got, ["one"]);
    await unsubscribe();
    assert.equal(await ctx.publish("news", "two"), 0);
  });

  test("worker environment carries the URL and session and forbids an embedded server", () => {
    const env = workerEnvironment();
    assert.equal(env.SKYPOOL_REDIS_URL, server.url);
    assert.equal(env.SKYPOOL_SESSION, sessionId());
    assert.equal(env.SKYPOOL_NO_EMBEDDED, "1");
  });

  test("Redis unreachable: a clear error within a bounded time", async () => {
    const port = await freePort();
    const saved = process.env.SKYPOOL_REDIS_TIMEOUT_MS;
    process.env.SKYPOOL_REDIS_TIMEOUT_MS = "1500";
    config.set({ redis: { url: `redis://127.0.0.1:${port}` } });
    try {
      const t0 = performance.now();
      await assert.rejects(new Lock().acquire(), (e: Error) => e instanceof SkypoolError && /cannot reach Redis/.test(e.message));
      assert.ok(since(t0) < 1500 + LOOSE, `gave up after ${since(t0)} ms`);
    } finally {
      if (saved === undefined) delete process.env.SKYPOOL_REDIS_TIMEOUT_MS;
      else process.env.SKYPOOL_REDIS_TIMEOUT_MS = saved;
      config.set({ redis: { url: server.url } });
    }
  });

  test("Redis restarted: primitives work again (state is gone: no persistence)", async () => {
    const lock = new Lock();
    const ev = new Event();
    assert.equal(await lock.acquire(), true);
    await ev.set();
    await server.kill();
    await assert.rejects(lock.locked(), SkypoolError);
    await server.restart();
    // The restarted server is empty: the lock is free and the event clear.
    assert.equal(await lock.locked(), false);
    assert.equal(await lock.acquire({ timeout: 1000 }), true);
    assert.equal(await ev.isSet(), false);
    await ev.set();
    assert.equal(await ev.wait(1000), true);
    const sem = new Semaphore(1);
    assert.equal(await sem.acquire(), true);
    await sem.release();
  });

  test("a waiter blocked while Redis restarts gets a clear error, not a hang", async () => {
    const lock = new Lock();
    await lock.acquire();
    const waiting = lock.acquire({ timeout: 20_000 }).then(() => "acquired", (e: Error) => e);
    await sleep(200);
    await server.kill();
    const killedAt = Date.now();
    const outcome = await waiting;
    const took = Date.now() - killedAt;
    assert.ok(outcome instanceof SkypoolError, String(outcome));
    // The wait survives the dropped connection and checks the lock again
    // (a restart that comes back in time goes unnoticed); with Redis gone
    // that check fails by the command deadline (SKYPOOL_REDIS_TIMEOUT_MS),
    // not by the acquire's own 20 s timeout, which would give `false`.
    const bound = commandTimeoutMs() + 5_000;
    assert.ok(bound < 20_000 && took < bound, `the blocked acquire settled ${took} ms after Redis died (bound ${bound} ms)`);
    await server.restart();
    assert.equal(await lock.acquire({ block: false }), true);
  });

  test("a program using primitives ends by itself (idle connections and lease timers do not keep it alive)", async () => {
    const lock = new Lock();
    const child = runChild("acquire-timed", { lock: wire(lock), timeout: 5000, release: false, mode: "natural" });
    const code = await Promise.race([child.exited, sleep(20_000).then(() => "still running")]);
    await child.kill();
    assert.equal(code, 0);
  });

  test("every primitive travels through the codec and shares its state", async () => {
    const lock = new Lock();
    const rlock = new RLock();
    const sem = new BoundedSemaphore(3);
    const cond = new Condition(lock);
    const ev = new Event();
    const barrier = new Barrier(4, { timeout: 1234 });
    const out = decode(encode({ nested: [lock, rlock, { sem }], cond, ev, barrier })) as {
      nested: [Lock, RLock, { sem: BoundedSemaphore }];
      cond: Condition;
      ev: Event;
      barrier: Barrier;
    };
    const [lock2, rlock2, { sem: sem2 }] = out.nested;
    assert.ok(lock2 instanceof Lock && lock2.id === lock.id && lock2 !== lock);
    assert.ok(rlock2 instanceof RLock && rlock2.id === rlock.id);
    assert.ok(sem2 instanceof BoundedSemaphore && sem2.initialValue === 3);
    assert.ok(out.cond.lock instanceof Lock && out.cond.lock.id === lock.id);
    assert.equal(out.barrier.parties, 4);
    assert.equal(out.barrier.timeout, 1234);
    assert.deepEqual(lock2.location, lock.location);
    await lock.acquire();
    assert.equal(await lock2.locked(), true);
    await lock2.release();
    await rlock.acquire();
    assert.equal(await rlock2.acquire({ block: false }), false, "a decoded RLock is another owner");
    await rlock.release();
    await sem.acquire();
    assert.equal(await sem2.getValue(), 2);
    await ev.set();
    assert.equal(await out.ev.isSet(), true);
  });

  test("handles passed to Pool workers arrive connected to the same Redis", async () => {
    // Workers load the handle classes themselves the first time an argument names one.
    const pool = new Pool(2);
    try {
      const lock = new Lock();
      const ev = new Event();
      const barrier = new Barrier(3, { timeout: 30_000 });
      await lock.acquire();
      const seen = await pool.apply(async (l: Lock, e: Event) => {
        const wasLocked = await l.locked();
        await l.release();
        await e.set();
        return wasLocked;
      }, [lock, ev]);
      assert.equal(seen, true);
      assert.equal(await lock.locked(), false);
      assert.equal(await ev.isSet(), true);
      const theirs = pool.map(async (b: Barrier) => await b.wait(), [barrier, barrier], 1);
      const mine = await barrier.wait();
      assert.deepEqual([mine, ...(await theirs)].sort(), [0, 1, 2]);
      const sem = new Semaphore(0);
      const waiter = pool.apply(async (s: Semaphore) => await s.acquire({ timeout: 20_000 }), [sem]);
      await sleep(300);
      await sem.release();
      assert.equal(await waiter, true);
    } finally {
      await pool.terminate();
    }
  });

  test("held locks and long waits outlive redisExpiryTime (their keys are refreshed)", async () => {
    config.set({ redisExpiryTime: 2 });
    try {
      const lock = new Lock();
      const rlock = new RLock();
      const ev = new Event();
      await lock.acquire();
      await rlock.acquire();
      const waiting = ev.wait(10_000);
      await sleep(3500);
      const { handleFromRecord, handleRecord } = await import("../../src/state/handle.ts");
      assert.equal(await (handleFromRecord("lock", handleRecord(lock)) as Lock).acquire({ block: false }), false);
      assert.equal(await (handleFromRecord("rlock", handleRecord(rlock)) as RLock).acquire({ block: false }), false);
      const t0 = performance.now();
      await ev.set();
      assert.equal(await waiting, true);
      assert.ok(since(t0) < 3000, "the waiter was woken by set(), not by its timeout");
      await lock.release();
      await rlock.release();
    } finally {
      config.reset();
      config.set({ redis: { url: server.url } });
    }
  });

  test("no key of the namespace is left without a TTL", async () => {
    const lock = new Lock();
    const rlock = new RLock();
    const sem = new BoundedSemaphore(2);
    const cond = new Condition();
    const ev = new Event();
    const barrier = new Barrier(2, { timeout: 5000 });
    await lock.acquire();
    await rlock.acquire();
    await rlock.acquire();
    await sem.acquire();
    await cond.acquire();
    await cond.wait(30);
    await cond.notify();
    await cond.release();
    const evWait = ev.wait(5000);
    await sleep(50);
    await ev.set();
    await evWait;
    await Promise.all([barrier.wait(), barrier.wait()]);
    await Promise.all([new Barrier(2).wait(50).catch(() => {}), sleep(10)]);
    await lock.release();
    await lock.acquire({ timeout: 30 });
    await rlock.release();
    const ns = defaultContext().pattern;
    const keys = await server.keys(ns);
    assert.ok(keys.length >= 6, `expected keys under ${ns}, got ${keys}`);
    assert.deepEqual(await server.keysWithoutTtl(ns), []);
  });
});
