// The fleet channel's stream mechanics, with workers running a plain JSON
// handler (batches and answers are opaque bytes at this layer): routing by
// batch id, exactly one answer per batch, workers that die, join or drain,
// and the delivery limit.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLostError } from "../../src/errors.ts";
import { FLEET_GROUP, resultKey, streamKey } from "../../src/remote/fleet_protocol.ts";
import { FleetChannel } from "../../src/transport/fleet.ts";
import { config } from "../../src/config.ts";
import { type FleetFixture, startFleet } from "../helpers/fleet_setup.ts";
import { withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const LEASE_MS = 1500;

const encode = (v: unknown, ms = 0) => new TextEncoder().encode(JSON.stringify({ v, ms }));
const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as { v: unknown; pid: number };

function sendJson(channel: FleetChannel, id: string, v: unknown, ms = 0, signal = new AbortController().signal) {
  return channel.send(encode(v, ms), { batchId: id }, signal).then(decode);
}

describe("fleet channel", () => {
  let fleet: FleetFixture;
  before(async () => {
    fleet = await startFleet({ handler: "json", leaseMs: LEASE_MS });
  });
  after(() => fleet.stop());
  afterEach(() => fleet.killWorkers());

  test("without a Redis URL the channel refuses to start, naming SKYPOOL_REDIS_URL", () => {
    const url = config.get().redis.url;
    const queue = config.get().fleet.queue;
    config.reset();
    try {
      if (config.get().redis.url === undefined) assert.throws(() => new FleetChannel(), /SKYPOOL_REDIS_URL/);
      assert.throws(() => new FleetChannel({ redisUrl: "" }), /SKYPOOL_REDIS_URL/);
    } finally {
      config.set({ redis: { url }, fleet: { queue } });
    }
  });

  test("each batch gets its own answer, and three workers share the work", T, async () => {
    const workers = await Promise.all([1, 2, 3].map(() => fleet.startWorker({ concurrency: 2 })));
    const channel = new FleetChannel();
    try {
      const answers = await withTimeout(Promise.all(Array.from({ length: 60 }, (_, i) => sendJson(channel, `b${i}`, i, 20))), 60_000, "60 batches");
      assert.deepEqual(answers.map((a) => a.v), Array.from({ length: 60 }, (_, i) => i));
      const pids = new Set(answers.map((a) => a.pid));
      assert.ok(pids.size >= 2, `answers came from ${pids.size} worker(s)`);
      for (const w of workers) assert.ok(pids.has(w.proc.pid!) || pids.size >= 2);
    } finally {
      await channel.close();
      await Promise.all(workers.map((w) => w.kill()));
    }
  });

  test("every stream and result key carries an expiry, and acknowledged entries are gone", T, async () => {
    const worker = await fleet.startWorker();
    const channel = new FleetChannel();
    try {
      await withTimeout(Promise.all([0, 1, 2].map((i) => sendJson(channel, `k${i}`, i))), 30_000, "3 batches");
      await channel.storeBundle("abc123", "export const x = 1;");
      assert.deepEqual(await fleet.server.keysWithoutTtl("skypool:fleet:*"), []);
      const stream = streamKey("skypool", fleet.queue);
      assert.equal(await fleet.server.command(["XLEN", stream]), 0);
      const [pending] = await fleet.server.command<[number]>(["XPENDING", stream, FLEET_GROUP]);
      assert.equal(pending, 0);
    } finally {
      await channel.close();
      await worker.kill();
    }
  });

  test("kill -9 of a worker in the middle of a 200-batch job: every batch is answered exactly once, within the lease and a few seconds", T, async () => {
    const a = await fleet.startWorker({ concurrency: 4 });
    const b = await fleet.startWorker({ concurrency: 4 });
    const channel = new FleetChannel();
    try {
      let answered = 0;
      let killedAt = 0;
      const seen = new Map<number, number>();
      const job = Array.from({ length: 200 }, (_, i) =>
        sendJson(channel, `j${i}`, i, 30).then((ans) => {
          seen.set(i, (seen.get(i) ?? 0) + 1);
          if (++answered === 40) {
            killedAt = performance.now();
            a.proc.kill("SIGKILL");
          }
          return ans;
        })
      );
      const answers = await withTimeout(Promise.all(job), 60_000, "200 batches with a worker killed");
      const took = performance.now() - killedAt;
      assert.ok(killedAt > 0, "the worker was killed mid-job");
      assert.deepEqual(answers.map((x) => x.v), Array.from({ length: 200 }, (_, i) => i));
      assert.deepEqual([...seen.values()].filter((n) => n !== 1), [], "no batch answered twice");
      assert.ok(took < LEASE_MS + 10_000, `the job ended ${Math.round(took)} ms after the kill`);
      const fromB = answers.filter((x) => x.pid === b.proc.pid).length;
      assert.ok(fromB > 160, `the survivor answered ${fromB} batches`);
      assert.equal(await a.exited, "SIGKILL");
    } finally {
      await channel.close();
      await Promise.all([a.kill(), b.kill()]);
    }
  });

  test("a worker started after the job began takes work", T, async () => {
    const first = await fleet.startWorker({ concurrency: 1 });
    const channel = new FleetChannel();
    let late: Awaited<ReturnType<FleetFixture["startWorker"]>> | undefined;
    try {
      const job = Array.from({ length: 30 }, (_, i) => sendJson(channel, `l${i}`, i, 100));
      await first.waitForLine("start 0", 30_000);
      late = await fleet.startWorker({ concurrency: 2 });
      const answers = await withTimeout(Promise.all(job), 60_000, "30 batches");
      const byLate = answers.filter((x) => x.pid === late!.proc.pid).length;
      assert.ok(byLate > 0, "the late worker answered some batches");
      assert.ok(answers.some((x) => x.pid === first.proc.pid));
    } finally {
      await channel.close();
      await Promise.all([first.kill(), late?.kill()]);
    }
  });

  test("SIGTERM drains: the running batch finishes and is answered, nothing new is read, the process exits 0", T, async () => {
    const worker = await fleet.startWorker({ concurrency: 1 });
    const channel = new FleetChannel();
    try {
      const running = sendJson(channel, "d0", "long", 1500);
      await worker.waitForLine('start "long"', 30_000);
      const queued = sendJson(channel, "d1", "queued", 0);
      worker.proc.kill("SIGTERM");
      const answer = await withTimeout(running, 30_000, "the running batch");
      assert.deepEqual(answer, { v: "long", pid: worker.proc.pid });
      const code = await withTimeout(worker.exited, 30_000, "the worker's exit");
      // Deno's node:child_process reports the signal it sent even when the
      // child handled it and exited 0; "drained" is printed just before that exit.
      assert.ok(code === 0 || (isDeno && code === "SIGTERM"), `exit ${code}`);
      assert.ok(worker.lines.includes("drained"));
      assert.ok(!worker.lines.includes('start "queued"'), "the draining worker read no new batch");
      // The queued batch waits for the next worker.
      const next = await fleet.startWorker();
      assert.deepEqual(await withTimeout(queued, 30_000, "the queued batch"), { v: "queued", pid: next.proc.pid });
    } finally {
      await channel.terminate();
      await worker.kill();
    }
  });

  test("a batch that loses every worker it reaches fails with WorkerLostError after maxDeliveries", T, async () => {
    const channel = new FleetChannel({ maxDeliveries: 2 });
    const started: number[] = [];
    try {
      const doomed = sendJson(channel, "x0", "die");
      let outcome: unknown;
      doomed.then((v) => (outcome = v), (e) => (outcome = e));
      // Each worker that takes it dies; a fresh one takes it over after the lease.
      while (outcome === undefined && started.length < 5) {
        const w = await fleet.startWorker();
        started.push(w.proc.pid!);
        await Promise.race([w.exited, doomed.catch(() => {})]);
      }
      assert.ok(outcome instanceof WorkerLostError, `got ${outcome}`);
      assert.match(String((outcome as Error).message), /x0/);
      assert.equal(started.length, 3, "two deliveries died, the third answered the loss");
    } finally {
      await channel.close();
    }
  });

  test("an aborted send rejects with the signal's reason and its batch does not run", T, async () => {
    const channel = new FleetChannel();
    try {
      const stop = new AbortController();
      const sent = sendJson(channel, "a0", "aborted", 0, stop.signal);
      const reason = new Error("stop it");
      await new Promise((r) => setTimeout(r, 200));
      stop.abort(reason);
      await assert.rejects(sent, (e) => e === reason);
      await new Promise((r) => setTimeout(r, 200));
      const worker = await fleet.startWorker();
      const other = await withTimeout(sendJson(channel, "a1", "after"), 30_000, "the next batch");
      assert.equal(other.v, "after");
      assert.ok(!worker.lines.includes('start "aborted"'));
      await worker.kill();
    } finally {
      await channel.close();
    }
  });

  test("close() called twice while a batch is in flight: both wait for its answer", T, async () => {
    const worker = await fleet.startWorker();
    const channel = new FleetChannel();
    const answer = sendJson(channel, "c0", "closing", 300);
    const [a] = await withTimeout(Promise.all([answer, channel.close(), channel.close()]), 30_000, "two closes");
    assert.equal(a.v, "closing");
    await assert.rejects(sendJson(channel, "c1", "late"), /closed/);
    await worker.kill();
  });

  test("a stream entry nobody can be answered for is dropped, and the worker keeps serving", T, async () => {
    const worker = await fleet.startWorker();
    const channel = new FleetChannel();
    try {
      const stream = streamKey("skypool", fleet.queue);
      await fleet.server.command(["XADD", stream, "*", "b", "garbage"]);
      await fleet.server.command(["XADD", stream, "*", "b", "garbage", "r", "skypool:elsewhere", "i", "zz"]);
      // Bytes the handler cannot take: the caller hears of it (the JSON handler throws).
      const reply = resultKey("skypool", fleet.queue, "probe");
      await fleet.server.command(["XADD", stream, "*", "b", "not json", "r", reply, "i", "g1"]);
      const ok = await withTimeout(sendJson(channel, "ok1", "fine"), 30_000, "a batch after garbage");
      assert.equal(ok.v, "fine");
      assert.equal(await fleet.server.command(["EXISTS", "skypool:elsewhere"]), 0, "nothing written outside the queue's result lists");
      assert.equal(await fleet.server.command(["LLEN", reply]), 1, "the unreadable batch was answered");
      assert.match(worker.stderr(), /dropped stream entry/);
    } finally {
      await channel.close();
      await worker.kill();
    }
  });
});
