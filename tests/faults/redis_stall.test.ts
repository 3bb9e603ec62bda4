/**
 * Redis that stops answering: a frozen server (SIGSTOP) and a TCP peer that
 * accepts connections and never replies. Calls with a timeout settle by it
 * (plus a small margin) with their usual result; calls without one fail
 * with a `CommandTimeoutError` after `redis.commandTimeoutMs`; the client
 * works again once the server thaws, and nothing a given-up call did stays
 * done.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import process from "node:process";
import { config, Lock, Queue, QueueEmptyError, QueueFullError, Semaphore, SkypoolError, StateError } from "../../mod.ts";
import { CommandTimeoutError } from "../../mod.ts";
import { freePort, startRedisServer, type TestRedisServer } from "../helpers/redis_server.ts";
import { SLACK, sleep, tearDownRedis, timed } from "../helpers/state_setup.ts";

/** The most a timed call may overrun its timeout with the server frozen (the requirement is 1 s; the rest absorbs a loaded machine). */
const MARGIN = 1000 + 500;
const COMMAND_TIMEOUT = 2000;
const CONNECT_TIMEOUT = 5000;

async function frozenServer(t: { after(fn: () => unknown): void }): Promise<TestRedisServer> {
  const server = await startRedisServer();
  t.after(async () => {
    server.thaw();
    await tearDownRedis(server);
  });
  config.set({ redis: { url: server.url, commandTimeoutMs: COMMAND_TIMEOUT } });
  return server;
}

function settledWithin(ms: number, timeout: number, what: string): void {
  console.log(`${what}: settled after ${ms.toFixed(0)} ms`);
  assert.ok(ms >= timeout - SLACK, `${what} settled after ${ms.toFixed(0)} ms, before its ${timeout} ms timeout`);
  assert.ok(ms <= timeout + MARGIN, `${what} settled after ${ms.toFixed(0)} ms (timeout ${timeout} ms)`);
}

test("frozen Redis: Lock.acquire with a timeout returns false by then, free or held, and works after the thaw", async (t) => {
  const server = await frozenServer(t);
  const free = new Lock();
  const held = new Lock();
  assert.equal(await held.acquire(), true);
  server.freeze();
  for (const [lock, timeout] of [[free, 1000], [held, 1000], [free, 300]] as const) {
    const r = await timed(() => lock.acquire({ timeout }));
    assert.equal(r.value, false, String(r.error));
    settledWithin(r.ms, timeout, `acquire({ timeout: ${timeout} })`);
  }
  server.thaw();
  // The attempts Redis ran after the thaw are undone: the free lock is free.
  assert.equal(await free.acquire({ timeout: 3000 }), true);
  await free.release();
  assert.equal(await held.locked(), true);
  await held.release();
});

test("frozen Redis: Semaphore.acquire with a timeout returns false by then; no permit is lost after the thaw", async (t) => {
  const server = await frozenServer(t);
  const sem = new Semaphore(2);
  assert.equal(await sem.acquire(), true);
  server.freeze();
  // One permit is free (the fast path) and then none (the wait).
  const free = await timed(() => sem.acquire({ timeout: 1000 }));
  assert.equal(free.value, false, String(free.error));
  settledWithin(free.ms, 1000, "acquire({ timeout: 1000 }) with a permit free");
  server.thaw();
  await sleep(500);
  // What the given-up acquire took went back: one permit is still free.
  assert.equal(await sem.getValue(), 1);
  assert.equal(await sem.acquire({ timeout: 3000 }), true);
  server.freeze();
  const none = await timed(() => sem.acquire({ timeout: 800 }));
  assert.equal(none.value, false, String(none.error));
  settledWithin(none.ms, 800, "acquire({ timeout: 800 }) with no permit free");
  server.thaw();
  await sem.release();
  await sem.release();
  await sleep(500);
  assert.equal(await sem.getValue(), 2);
});

test("frozen Redis: Queue.get and put with a timeout raise Empty/Full by then; items put before are all there after the thaw", async (t) => {
  const server = await frozenServer(t);
  const q = new Queue<number>();
  const bounded = new Queue<number>(1);
  for (let i = 0; i < 5; i++) await q.put(i);
  server.freeze();
  let r = await timed(() => q.get({ timeout: 1000 }));
  assert.ok(r.error instanceof QueueEmptyError, String(r.error ?? r.value));
  settledWithin(r.ms, 1000, "get({ timeout: 1000 }) on a queue with items");
  r = await timed(() => bounded.get({ timeout: 800 }));
  assert.ok(r.error instanceof QueueEmptyError, String(r.error ?? r.value));
  settledWithin(r.ms, 800, "get({ timeout: 800 }) on an empty queue");
  const p = await timed(() => q.put(99, { timeout: 1000 }));
  assert.ok(p.error instanceof QueueFullError, String(p.error));
  settledWithin(p.ms, 1000, "put(x, { timeout: 1000 })");
  server.thaw();
  // What the given-up get took went back to the head; the given-up put was
  // taken out: the queue holds exactly what it held, in order.
  const got: number[] = [];
  for (let i = 0; i < 5; i++) got.push(await q.get({ timeout: 3000 }));
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  await sleep(300);
  assert.equal(await q.qsize(), 0);
  await bounded.put(7, { timeout: 3000 });
  assert.equal(await bounded.get({ timeout: 3000 }), 7);
});

test("frozen Redis: calls without a timeout fail with a CommandTimeoutError after redis.commandTimeoutMs, and recover", async (t) => {
  const server = await frozenServer(t);
  const q = new Queue<string>();
  const lock = new Lock();
  await q.put("kept");
  server.freeze();
  const calls: Array<[string, () => Promise<unknown>]> = [
    ["put", () => q.put("x")],
    ["get", () => new Queue<string>().get()],
    ["acquire", () => lock.acquire()],
    ["locked", () => lock.locked()],
  ];
  const outcomes = await Promise.all(calls.map(([, call]) => timed(call)));
  for (const [i, r] of outcomes.entries()) {
    const what = calls[i][0];
    assert.ok(r.error instanceof CommandTimeoutError && r.error instanceof StateError, `${what}: ${r.error ?? r.value}`);
    assert.match((r.error as Error).message, /no reply .* within \d+ ms/);
    assert.ok(r.ms >= COMMAND_TIMEOUT - SLACK && r.ms <= COMMAND_TIMEOUT + MARGIN, `${what} failed after ${r.ms.toFixed(0)} ms`);
  }
  server.thaw();
  assert.equal(await q.get({ timeout: 3000 }), "kept");
  // The put that failed was undone once Redis answered again.
  await sleep(500);
  assert.equal(await q.qsize(), 0);
  assert.equal(await lock.acquire({ timeout: 3000 }), true);
  await lock.release();
});

test("a TCP peer that accepts and never answers: timed calls settle by their timeout, others fail within the connect deadline", async (t) => {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const silent = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
  const saved = process.env.SKYPOOL_REDIS_TIMEOUT_MS;
  // Longer than both timed calls together, so that they settle by their
  // timeouts before the connection attempt gives up.
  process.env.SKYPOOL_REDIS_TIMEOUT_MS = String(CONNECT_TIMEOUT);
  t.after(async () => {
    if (saved === undefined) delete process.env.SKYPOOL_REDIS_TIMEOUT_MS;
    else process.env.SKYPOOL_REDIS_TIMEOUT_MS = saved;
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await tearDownRedis(undefined);
  });
  config.set({ redis: { url: `redis://127.0.0.1:${port}` } });
  const lock = new Lock();
  const q = new Queue<number>();
  const a = await timed(() => lock.acquire({ timeout: 1000 }));
  assert.equal(a.value, false, String(a.error));
  settledWithin(a.ms, 1000, "acquire({ timeout: 1000 })");
  const g = await timed(() => q.get({ timeout: 1000 }));
  assert.ok(g.error instanceof QueueEmptyError, String(g.error ?? g.value));
  settledWithin(g.ms, 1000, "get({ timeout: 1000 })");
  const p = await timed(() => q.put(1));
  assert.ok(p.error instanceof SkypoolError && /cannot reach Redis/.test(p.error.message), String(p.error));
  assert.ok(p.ms <= CONNECT_TIMEOUT + MARGIN, `put failed after ${p.ms.toFixed(0)} ms`);
});

test("the command deadline comes from SKYPOOL_REDIS_COMMAND_TIMEOUT_MS too; bad values are RangeErrors naming it", async (t) => {
  const server = await startRedisServer();
  const saved = process.env.SKYPOOL_REDIS_COMMAND_TIMEOUT_MS;
  t.after(async () => {
    if (saved === undefined) delete process.env.SKYPOOL_REDIS_COMMAND_TIMEOUT_MS;
    else process.env.SKYPOOL_REDIS_COMMAND_TIMEOUT_MS = saved;
    server.thaw();
    await tearDownRedis(server);
  });
  for (const bad of [0, -1, Number.NaN, 1.5]) {
    assert.throws(() => config.set({ redis: { commandTimeoutMs: bad } }), (e: Error) => e instanceof RangeError && /redis\.commandTimeoutMs/.test(e.message));
  }
  assert.throws(() => config.set({ redis: { commandTimeoutMs: "soon" as never } }), (e: Error) => e instanceof TypeError && /redis\.commandTimeoutMs/.test(e.message));
  process.env.SKYPOOL_REDIS_COMMAND_TIMEOUT_MS = "1200";
  config.reset();
  config.set({ redis: { url: server.url } });
  assert.equal(config.get().redis.commandTimeoutMs, 1200);
  const q = new Queue<number>();
  await q.put(1);
  server.freeze();
  const r = await timed(() => q.put(2));
  assert.ok(r.error instanceof CommandTimeoutError, String(r.error));
  assert.ok(r.ms >= 1200 - SLACK && r.ms <= 1200 + MARGIN, `put failed after ${r.ms.toFixed(0)} ms`);
  server.thaw();
  assert.equal(await q.get({ timeout: 3000 }), 1);
});
