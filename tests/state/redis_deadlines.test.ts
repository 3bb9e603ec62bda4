import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Lock, Queue, QueueEmptyError, QueueFullError, Semaphore } from "../../mod.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";
import { setUpRedis, tearDownRedis } from "../helpers/state_setup.ts";

let server: TestRedisServer;
before(async () => {
  server = await setUpRedis();
});
after(() => tearDownRedis(server));

test("a zero timeout still gives a call its round trip to Redis", async () => {
  const q = new Queue<string>(1);
  await q.put("a", { timeout: 0 });
  await assert.rejects(q.put("b", { timeout: 0 }), QueueFullError);
  assert.equal(await q.get({ timeout: 0 }), "a");
  await assert.rejects(q.get({ timeout: 0 }), QueueEmptyError);
  const lock = new Lock();
  assert.equal(await lock.acquire({ timeout: 0 }), true);
  assert.equal(await lock.acquire({ timeout: 0 }), false);
  await lock.release();
  const sem = new Semaphore(1);
  assert.equal(await sem.acquire({ timeout: 0 }), true);
  assert.equal(await sem.acquire({ timeout: 0 }), false);
  await sem.release();
  assert.equal(await sem.getValue(), 1);
});
