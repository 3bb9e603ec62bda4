import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { JoinableQueue, Queue } from "../../src/state/queue.ts";
import { Lock } from "../../src/state/lock.ts";
import { Pipe } from "../../src/state/pipe.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import { handleFromRecord, handleRecord, type HandleRecord } from "../../src/state/handle.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { QueueEmptyError, QueueFullError, SerializationError, StateError } from "../../src/errors.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";
import { onCluster, setUpRedis, sleep as delay, tearDownRedis, timed } from "../helpers/state_setup.ts";
import { authkeyEnvironment } from "../../src/task/authkey.ts";

// ---------------------------------------------------------------------------
// Child-process mode: this file re-runs itself as a producer process.

const CHILD_ROLE = process.env.SKYPOOL_QUEUE_TEST_CHILD;
if (CHILD_ROLE !== undefined) {
  const { record, items } = JSON.parse(process.env.SKYPOOL_QUEUE_TEST_ARGS!) as { record: HandleRecord; items: number[] };
  const q = handleFromRecord("queue", record) as Queue;
  if (CHILD_ROLE === "producer") {
    for (const it of items) await q.put(it);
  } else if (CHILD_ROLE === "consumer") {
    // Takes `items.length` items and puts them back doubled on the record's twin queue `out`.
    const out = handleFromRecord("queue", JSON.parse(process.env.SKYPOOL_QUEUE_TEST_OUT!)) as Queue;
    for (let i = 0; i < items.length; i++) await out.put((await q.get({ timeout: 20_000 }) as number) * 2);
  }
  q.close();
  await closeAllConnections();
  process.exit(0);
}

function runChild(role: string, q: Queue, items: number[], out?: Queue): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, args] = deno ? [deno.execPath(), ["run", "-A", self]] : [process.execPath, [self]];
  const child = spawn(cmd, args, {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      ...authkeyEnvironment(),
      SKYPOOL_QUEUE_TEST_CHILD: role,
      SKYPOOL_QUEUE_TEST_ARGS: JSON.stringify({ record: recordOf(q), items }),
      SKYPOOL_QUEUE_TEST_OUT: out ? JSON.stringify(recordOf(out)) : "",
    },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child ${role} timed out`));
    }, 60_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

// ---------------------------------------------------------------------------

/** The record the codec would ship, through JSON as a child process gets it. */
function recordOf(q: Queue): HandleRecord {
  return JSON.parse(JSON.stringify(handleRecord(q)));
}

/** Another handle of the same queue, as a second process would have it. */
function twin<Q extends Queue>(q: Q): Q {
  const copy = handleFromRecord("queue", recordOf(q)) as Q;
  assert.equal(copy.constructor, q.constructor);
  return copy;
}


let server: TestRedisServer;

describe("Queue", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(async () => {
    await tearDownRedis(server);
  });

  test("Q-01: puts on a bounded queue, full at once without blocking, full after the timeout with it", async () => {
    const q = new Queue<number>(5);
    assert.equal(await q.empty(), true);
    assert.equal(await q.full(), false);
    await q.put(10);
    await q.put(11, { block: true });
    await q.put(12, { block: true, timeout: undefined });
    await q.put(13, { block: false });
    await q.putNowait(14);
    assert.equal(await q.empty(), false);
    assert.equal(await q.full(), true);

    for (const attempt of [() => q.put(99, { block: false }), () => q.putNowait(99), () => q.put(99, { block: false, timeout: 5000 })]) {
      const r = await timed(attempt);
      assert.ok(r.error instanceof QueueFullError, String(r.error));
      assert.ok(r.ms < 1500, `non-blocking put took ${r.ms} ms`);
    }
    for (const t of [150, 250]) {
      const r = await timed(() => q.put(99, { timeout: t }));
      assert.ok(r.error instanceof QueueFullError, String(r.error));
      assert.ok(r.ms >= t - 100, `put with timeout ${t} returned after ${r.ms} ms`);
      assert.ok(r.ms < t + 2000, `put with timeout ${t} took ${r.ms} ms`);
    }
    assert.equal(await q.qsize(), 5);
    const consumer = twin(q);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push(await consumer.get());
    assert.deepEqual(got, [10, 11, 12, 13, 14]);
    assert.equal(await q.empty(), true);
    assert.equal(await q.full(), false);
  });

  test("Q-02: gets, empty at once without blocking, empty after the timeout with it", async () => {
    const q = new Queue<number>();
    const producer = twin(q);
    for (const v of [21, 22, 23, 24]) await producer.put(v);
    assert.equal(await q.get({ block: true, timeout: undefined }), 21);
    assert.equal(await q.get({ block: true }), 22);
    assert.equal(await q.get({ timeout: 1000 }), 23);
    assert.equal(await q.getNowait(), 24);
    assert.equal(await q.empty(), true);
    for (const attempt of [() => q.get({ block: false }), () => q.getNowait(), () => q.get({ block: false, timeout: 5000 }), () => q.get({ timeout: 0 })]) {
      const r = await timed(attempt);
      assert.ok(r.error instanceof QueueEmptyError, String(r.error));
      assert.ok(r.ms < 1500, `non-blocking get took ${r.ms} ms`);
    }
    for (const t of [120, 300]) {
      const r = await timed(() => q.get({ timeout: t }));
      assert.ok(r.error instanceof QueueEmptyError, String(r.error));
      assert.ok(r.ms >= t - 100, `get with timeout ${t} returned after ${r.ms} ms`);
      assert.ok(r.ms < t + 2000, `get with timeout ${t} took ${r.ms} ms`);
    }
  });

  test("Q-06: get with a timeout really blocks for it", async () => {
    const q = new Queue();
    const r = await timed(() => q.get({ timeout: 180 }));
    assert.ok(r.error instanceof QueueEmptyError);
    assert.ok(r.ms >= 100, `returned after ${r.ms} ms`);
  });

  test("Q-03: FIFO across producers, including another process, with nothing lost", async () => {
    const q = new Queue<number>();
    for (let i = 0; i < 8; i++) await q.put(i);
    assert.equal(await runChild("producer", q, [8, 9, 10, 11, 12, 13, 14, 15]), 0);
    const got: number[] = [];
    for (let i = 0; i < 16; i++) got.push(await q.get({ timeout: 5000 }));
    assert.deepEqual(got, Array.from({ length: 16 }, (_, i) => i));
    await assert.rejects(q.get({ block: false }), QueueEmptyError);
  });

  test("a consumer process takes items put here and answers on another queue", async () => {
    const work = new Queue<number>(2);
    const answers = new Queue<number>();
    const child = runChild("consumer", work, [0, 0, 0, 0, 0], answers);
    for (const v of [3, 4, 5, 6, 7]) await work.put(v, { timeout: 30_000 });
    assert.equal(await child, 0);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push(await answers.get({ timeout: 5000 }));
    assert.deepEqual(got, [6, 8, 10, 12, 14]);
  });

  test("Q-04: qsize follows puts and gets", async () => {
    const q = new Queue<string>();
    assert.equal(await q.qsize(), 0);
    await q.put("x");
    assert.equal(await q.qsize(), 1);
    await q.put("y");
    assert.equal(await q.qsize(), 2);
    await q.get();
    assert.equal(await q.qsize(), 1);
    await q.get();
    assert.equal(await q.qsize(), 0);
  });

  test("a blocked get wakes when another handle puts", async () => {
    const q = new Queue<string>();
    const pending = timed(() => q.get({ timeout: 10_000 }));
    await delay(150);
    await twin(q).put("late");
    const r = await pending;
    assert.equal(r.value, "late");
    assert.ok(r.ms >= 100 && r.ms < 5000, `woke after ${r.ms} ms`);
  });

  test("a put on a full queue blocks until a get frees a slot, and keeps order", async () => {
    const q = new Queue<number>(1);
    await q.put(1);
    const pending = timed(() => twin(q).put(2));
    await delay(200);
    assert.equal(await q.qsize(), 1, "the blocked put must not have gone in");
    assert.equal(await q.get(), 1);
    const r = await pending;
    assert.equal(r.error, undefined);
    assert.ok(r.ms >= 150, `put returned after ${r.ms} ms, before the slot was freed`);
    assert.equal(await q.get({ timeout: 2000 }), 2);
  });

  test("a full put waiting with a timeout succeeds when a slot frees in time", async () => {
    const q = new Queue<number>(1);
    await q.put(1);
    const pending = timed(() => q.put(2, { timeout: 5000 }));
    await delay(100);
    assert.equal(await twin(q).get(), 1);
    const r = await pending;
    assert.equal(r.error, undefined);
    assert.ok(r.ms < 4000, `put took ${r.ms} ms`);
  });

  test("many producers and consumers through a small bounded queue lose and duplicate nothing", async () => {
    const q = new Queue<number>(3);
    const producers = [0, 1, 2, 3].map(async (p) => {
      const h = twin(q);
      for (let i = 0; i < 25; i++) await h.put(p * 100 + i, { timeout: 20_000 });
    });
    // Each consumer keeps its own record: two consumers' replies may reach
    // this process in either order, but each one's gets are sequential.
    const perConsumer: number[][] = [[], []];
    const consumers = [0, 1].map(async (c) => {
      const h = twin(q);
      for (let i = 0; i < 50; i++) perConsumer[c].push(await h.get({ timeout: 20_000 }));
    });
    await Promise.all([...producers, ...consumers]);
    const got = perConsumer.flat();
    assert.deepEqual(got.slice().sort((a, b) => a - b), [0, 1, 2, 3].flatMap((p) => Array.from({ length: 25 }, (_, i) => p * 100 + i)));
    // FIFO: each consumer sees each producer's items in the order it put them.
    for (const seen of perConsumer) {
      for (const p of [0, 1, 2, 3]) {
        const mine = seen.filter((v) => Math.floor(v / 100) === p);
        assert.deepEqual(mine, mine.slice().sort((a, b) => a - b));
      }
    }
    assert.equal(await q.qsize(), 0);
  });

  test("several blocked getters each get exactly one item", async () => {
    const q = new Queue<number>();
    const waiting = [0, 1, 2].map(() => twin(q).get({ timeout: 10_000 }));
    await delay(100);
    for (const v of [7, 8, 9]) await q.put(v);
    assert.deepEqual((await Promise.all(waiting)).sort(), [7, 8, 9]);
  });

  test("Q-07: an item that cannot be serialized throws and takes no slot", async () => {
    const q = new Queue<unknown>(1);
    await assert.rejects(q.put({ callback: () => 1 }), SerializationError);
    assert.equal(await q.qsize(), 0);
    await q.put(true);
    assert.equal(await q.qsize(), 1);
    assert.equal(await q.get(), true);
    assert.equal(await q.empty(), true);
  });

  test("LITH-15: putNowait on a full queue throws and the queue keeps its item", async () => {
    const q = new Queue<number>(1);
    await q.put(1);
    await assert.rejects(q.putNowait(2), QueueFullError);
    assert.equal(await q.qsize(), 1);
    assert.equal(await q.get(), 1);
  });

  test("LITH-18: another handle of the queue shares its items and maxsize", async () => {
    const q = new Queue<string>(2);
    const copy = twin(q);
    assert.equal(copy.maxsize, 2);
    await copy.put("from the copy");
    assert.equal(await q.get(), "from the copy");
    await q.put("a");
    await q.put("b");
    await assert.rejects(copy.putNowait("c"), QueueFullError);
  });

  test("values keep their types through the queue", async () => {
    const q = new Queue<unknown>();
    const value = { n: 1.5, big: 2n ** 70n, when: new Date(0), bytes: Uint8Array.of(1, 2, 3), list: [null, "s", { deep: true }] };
    await q.put(value);
    assert.deepEqual(await q.get(), value);
  });

  test("a queue travels through the codec and arrives connected to the same Redis", async () => {
    const q = new Queue<number>(3);
    const copy = decode(encode({ q })) as { q: Queue<number> };
    assert.ok(copy.q instanceof Queue);
    assert.equal(copy.q.id, q.id);
    assert.equal(copy.q.maxsize, 3);
    await copy.q.put(5);
    assert.equal(await q.get(), 5);
    const jq = new JoinableQueue<number>();
    const jcopy = decode(encode(jq));
    assert.ok(jcopy instanceof JoinableQueue);
  });

  test("handles put on a queue arrive usable: a Lock and a pipe end", async () => {
    const q = new Queue<unknown>();
    const lock = new Lock();
    const [here, there] = Pipe();
    await q.put({ lock, end: there });
    const got = await twin(q).get() as { lock: Lock; end: Awaited<ReturnType<typeof Pipe>>[1] };
    assert.ok(got.lock instanceof Lock);
    assert.equal(await got.lock.acquire(), true);
    assert.equal(await lock.locked(), true);
    assert.equal(await lock.acquire({ block: false }), false);
    await got.lock.release();
    await got.end.send("through the queue");
    assert.equal(await here.recv(), "through the queue");
  });

  test("Q-09/Q-10: a closed handle refuses put and get; empty() fails only if it put", async () => {
    for (const Cls of [Queue, JoinableQueue]) {
      const fresh = new Cls<string>();
      fresh.close();
      assert.equal(await fresh.empty(), true, "close() on a never-used queue leaves empty() working");
      await assert.rejects(fresh.put("x"), (e: unknown) => e instanceof StateError && /is closed/.test(e.message));

      const used = new Cls<string>();
      await used.put("foo");
      used.close();
      await used.joinThread();
      await assert.rejects(used.empty(), (e: unknown) => e instanceof StateError && /is closed/.test(e.message));
      await assert.rejects(used.put("bar"), (e: unknown) => e instanceof StateError && /is closed/.test(e.message));
      await assert.rejects(used.get(), (e: unknown) => e instanceof StateError && /is closed/.test(e.message));
      used.close();
      // Closing a handle does not touch the queue: another handle still sees the item.
      assert.equal(await twin(used).get({ timeout: 1000 }), "foo");
    }
  });

  test("joinThread before close is a StateError; cancelJoinThread is harmless", async () => {
    const q = new Queue();
    await assert.rejects(q.joinThread(), StateError);
    q.cancelJoinThread();
    {
      await using scoped = new Queue<number>();
      await scoped.put(1);
      assert.equal(await scoped.get(), 1);
    }
  });

  test("bad arguments are TypeError/RangeError", async () => {
    assert.throws(() => new Queue(1.5), RangeError);
    assert.throws(() => new Queue("3" as unknown as number), TypeError);
    assert.equal(new Queue(-4).maxsize, 0, "maxsize <= 0 means unbounded, as in Python");
    const q = new Queue();
    await assert.rejects(q.get({ timeout: -1 }), RangeError);
    await assert.rejects(q.put(1, { timeout: Number.NaN }), RangeError);
    await assert.rejects(q.put(1, { block: "yes" as unknown as boolean }), TypeError);
  });
});

describe("JoinableQueue", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(async () => {
    await tearDownRedis(server);
  });

  test("QSRC-01/LITH-19: taskDone without an unfinished item is a StateError", async () => {
    const q = new JoinableQueue<number>();
    await assert.rejects(q.taskDone(), (e: unknown) => e instanceof StateError && /too many times/.test(e.message));
    await q.put(1);
    await q.get();
    await q.taskDone();
    await assert.rejects(q.taskDone(), StateError);
  });

  test("Q-05: join returns only after every item is done by the workers", async () => {
    const q = new JoinableQueue<number | null>();
    const processed: number[] = [];
    const workers = [0, 1, 2, 3].map(async () => {
      const h = twin(q);
      for (;;) {
        const item = await h.get({ timeout: 20_000 });
        if (item === null) {
          await h.taskDone();
          return;
        }
        await delay(60);
        processed.push(item);
        await h.taskDone();
      }
    });
    for (let i = 0; i < 9; i++) await q.put(i);
    const t0 = performance.now();
    await q.join();
    const ms = performance.now() - t0;
    assert.equal(processed.length, 9, "join returned before every task was done");
    assert.ok(ms >= 60 * 2 - 100, `join returned after ${ms} ms`);
    for (let i = 0; i < 4; i++) await q.put(null);
    await Promise.all(workers);
    await q.join();
  });

  test("join on a queue with nothing unfinished returns at once; a later join waits again", async () => {
    const q = new JoinableQueue<string>();
    await q.join();
    await q.put("job");
    let joined = false;
    const j = twin(q).join().then(() => (joined = true));
    await delay(150);
    assert.equal(joined, false);
    await q.get();
    await q.taskDone();
    await j;
    assert.equal(joined, true);
  });
});

// A cluster's failover is tested in `cluster/failover.test.ts`.
describe("Queue against a Redis restart", { skip: onCluster() && "a single server's restart" }, () => {
  test("items put after Redis restarts go through (an in-memory server loses the earlier ones)", async (t) => {
    const s = await setUpRedis();
    t.after(() => tearDownRedis(s));
    const q = new Queue<string>(4);
    await q.put("before");
    assert.equal(await q.qsize(), 1);
    await s.kill();
    await s.restart();
    // The server had no persistence: "before" is gone. The queue works again.
    assert.equal(await q.qsize(), 0);
    await q.put("after");
    assert.equal(await twin(q).get({ timeout: 2000 }), "after");
    await assert.rejects(q.get({ timeout: 100 }), QueueEmptyError);
    // A blocking get that starts after the restart is woken by a put.
    const pending = q.get({ timeout: 5000 });
    await delay(50);
    await q.put("woken");
    assert.equal(await pending, "woken");
  });

  test("a get blocked while Redis restarts keeps waiting and gets an item put afterwards", async (t) => {
    const s = await setUpRedis();
    t.after(() => tearDownRedis(s));
    const q = new Queue<string>();
    const blockedGet = q.get({ timeout: 20_000 });
    const [r, w] = Pipe(false);
    await w.send("warm-up");
    assert.equal(await r.recv(), "warm-up");
    const blockedRecv = r.recv();
    await delay(200);
    await s.kill();
    await s.restart();
    await q.put("after the restart");
    assert.equal(await blockedGet, "after the restart");
    await w.send("also after");
    assert.equal(await blockedRecv, "also after");
  });

  test("no queue key is left without a TTL", async (t) => {
    const s = await setUpRedis();
    t.after(() => tearDownRedis(s));
    const q = new JoinableQueue<number>(2);
    await q.put(1);
    await q.put(2);
    const blocked = q.put(3, { timeout: 3000 });
    await delay(50);
    await q.get();
    await blocked;
    await q.get();
    await q.taskDone();
    const j = q.join();
    await q.get();
    await q.taskDone();
    await q.taskDone();
    await j;
    await q.put(4);
    const keys = await s.keys();
    assert.ok(keys.length > 0);
    assert.deepEqual(await s.keysWithoutTtl(), []);
  });
});
