/**
 * Redis killed and restarted under traffic between two processes. With a
 * durable server (AOF, fsync always) every item put arrives exactly once
 * and the lock is never held twice; with an in-memory server what it held
 * is lost, but nothing arrives twice.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { config, Lock, Queue } from "../../mod.ts";
import { runChild } from "../helpers/child.ts";
import { startRedisServer, type TestRedisServer } from "../helpers/redis_server.ts";
import { sleep, tearDownRedis, wire } from "../helpers/state_setup.ts";

const ITEMS = 3000;
const RESTARTS = 3;

async function server(durable: boolean, t: { after(fn: () => unknown): void }): Promise<TestRedisServer> {
  const s = await startRedisServer({ durable });
  t.after(() => tearDownRedis(s));
  config.set({ redis: { url: s.url } });
  return s;
}

/** Kills and restarts the server `RESTARTS` times while `busy` runs (it resolves when the traffic is done). */
async function restartDuring(s: TestRedisServer, busy: Promise<unknown>): Promise<number> {
  let restarts = 0;
  let done = false;
  void busy.finally(() => (done = true));
  while (restarts < RESTARTS && !done) {
    await sleep(300);
    await s.kill();
    await sleep(100);
    await s.restart();
    restarts++;
  }
  return restarts;
}

/** `"a 1 b 2"` → `{ a: 1, b: 2 }` (the children's report lines). */
function numbers(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  const words = line.split(" ");
  for (let i = 0; i + 1 < words.length; i += 2) out[words[i]] = Number(words[i + 1]);
  return out;
}

async function queueTraffic(durable: boolean, t: { after(fn: () => unknown): void }) {
  const s = await server(durable, t);
  const q = new Queue<number | string>();
  // 1 ms after each put: the traffic lasts ≥ 3 s, longer than the restarts (~0.5 s each).
  const producer = runChild("queue-produce", { queue: wire(q), n: ITEMS, paceMs: 1 });
  const consumer = runChild("queue-consume", { queue: wire(q), n: ITEMS });
  t.after(async () => {
    await producer.kill();
    await consumer.kill();
  });
  await producer.waitForLine("producing", 60_000);
  const restarts = await restartDuring(s, producer.waitForLine(/^produced/, 90_000));
  const produced = numbers(await producer.waitForLine(/^produced/, 90_000));
  // An in-memory restart may take the "end" mark with it: send it again.
  if (!durable) await q.put("end");
  const consumed = numbers(await consumer.waitForLine(/^consumed/, 90_000));
  for (const line of [...producer.lines, ...consumer.lines].filter((l) => l.startsWith("error"))) console.log(line);
  return { restarts, produced, consumed };
}

test("durable Redis restarted during Queue traffic between two processes: 0 lost, 0 duplicated", async (t) => {
  const { restarts, consumed, produced } = await queueTraffic(true, t);
  console.log(`durable: restarts ${restarts}, lost ${consumed.lost}, duplicated ${consumed.duplicated}, put retries ${produced.retries}, get retries ${consumed.retries}`);
  assert.equal(restarts, RESTARTS, "the traffic outlasted the restarts");
  assert.equal(produced.produced, ITEMS);
  assert.equal(consumed.consumed, ITEMS);
  assert.equal(consumed.duplicated, 0);
  assert.equal(consumed.lost, 0);
});

test("in-memory Redis restarted during Queue traffic between two processes: nothing duplicated", async (t) => {
  const { restarts, consumed } = await queueTraffic(false, t);
  console.log(`in-memory: restarts ${restarts}, lost ${consumed.lost}, duplicated ${consumed.duplicated}`);
  assert.equal(restarts, RESTARTS, "the traffic outlasted the restarts");
  assert.equal(consumed.duplicated, 0);
});

test("durable Redis restarted during Lock traffic between two processes: never two holders", async (t) => {
  const s = await server(true, t);
  const dir = mkdtempSync(join(tmpdir(), "skypool-lock-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lock = new Lock();
  // Held 5 ms each time, by one process at a time: the traffic lasts ≥ 4 s, longer than the restarts.
  const payload = { lock: wire(lock), n: 400, marker: join(dir, "held"), holdMs: 5 };
  const env = { SKYPOOL_LEASE_MS: "3000" };
  const a = runChild("lock-loop", payload, env);
  const b = runChild("lock-loop", payload, env);
  t.after(async () => {
    await a.kill();
    await b.kill();
  });
  await a.waitForLine("locking", 60_000);
  const restarts = await restartDuring(s, Promise.all([a.waitForLine(/^locked/, 90_000), b.waitForLine(/^locked/, 90_000)]));
  const results = [numbers(await a.waitForLine(/^locked/, 90_000)), numbers(await b.waitForLine(/^locked/, 90_000))];
  console.log(`lock: restarts ${restarts}, ${results.map((r) => `overlaps ${r.overlaps} errors ${r.errors}`).join("; ")}`);
  assert.equal(restarts, RESTARTS, "the traffic outlasted the restarts");
  for (const r of results) {
    assert.equal(r.locked, 400);
    assert.equal(r.overlaps, 0);
  }
});
