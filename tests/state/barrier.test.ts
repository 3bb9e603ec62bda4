import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Barrier, BrokenBarrierError, SerializationError, Semaphore } from "../../mod.ts";
import { handleFromRecord, handleRecord } from "../../src/state/handle.ts";
import { runChild, type Child } from "../helpers/child.ts";
import { LOOSE, setUpRedis, sleep, tearDownRedis, wire } from "../helpers/state_setup.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";

let server: TestRedisServer;

const copy = (b: Barrier) => handleFromRecord("barrier", handleRecord(b)) as Barrier;

async function settle<T>(ps: Promise<T>[]): Promise<Array<T | Error>> {
  return await Promise.all(ps.map((p) => p.catch((e: Error) => e)));
}

describe("Barrier", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(() => tearDownRedis(server));

  test("arguments are checked", () => {
    assert.throws(() => new Barrier(0), RangeError);
    assert.throws(() => new Barrier(2.5), RangeError);
    assert.throws(() => new Barrier("3" as unknown as number), TypeError);
    assert.throws(() => new Barrier(2, { timeout: "x" as unknown as number }), TypeError);
    assert.equal(new Barrier(5).parties, 5);
  });

  test("Barrier(1) passes at once, twice (BAR-10)", async () => {
    const b = new Barrier(1);
    assert.equal(await b.wait(), 0);
    assert.equal(await b.wait(), 0);
  });

  test("indices are a permutation with exactly one 0, over 10 passes (BAR-02, BAR-03, LT-BAR-01)", async () => {
    const n = 4;
    const b = new Barrier(n);
    const parties = Array.from({ length: n }, () => copy(b));
    for (let pass = 0; pass < 10; pass++) {
      const indices = await Promise.all(parties.map((p) => p.wait(10_000)));
      assert.deepEqual([...indices].sort(), [0, 1, 2, 3]);
    }
    assert.equal(await b.nWaiting(), 0);
    assert.equal(await b.broken(), false);
  });

  test("nWaiting counts parties in the current generation", async () => {
    const b = new Barrier(3);
    const first = copy(b).wait(10_000);
    await sleep(100);
    assert.equal(await b.nWaiting(), 1);
    const second = copy(b).wait(10_000);
    await sleep(100);
    assert.equal(await b.nWaiting(), 2);
    await b.wait();
    await Promise.all([first, second]);
    assert.equal(await b.nWaiting(), 0);
  });

  test("the action runs exactly once, before any party is released (BAR-04)", async () => {
    const log: string[] = [];
    const b = new Barrier(3, { action: () => void log.push("action") });
    // One handle, three concurrent parties: the action may use closures
    // because it runs in this process and the barrier never travels.
    await Promise.all([0, 1, 2].map(() => b.wait(10_000).then(() => log.push("released"))));
    assert.deepEqual(log, ["action", "released", "released", "released"]);
  });

  test("a shipped action runs once in whichever process completes the barrier", async () => {
    const g = globalThis as { __barrierActions?: number };
    g.__barrierActions = 0;
    const b = new Barrier(3, {
      action: () => {
        const g = globalThis as { __barrierActions?: number };
        g.__barrierActions = (g.__barrierActions ?? 0) + 1;
      },
    });
    const kids = [0, 1].map(() => runChild("barrier-wait", { barrier: wire(b), timeout: 20_000, report: "__barrierActions" }));
    try {
      await b.wait(20_000);
      const lines = await Promise.all(kids.map((k) => k.waitForLine(/^index /)));
      const inKids = lines.map((l) => Number(l.split(" ")[3] ?? 0)).reduce((x, y) => x + y, 0);
      assert.equal(inKids + g.__barrierActions, 1, `kids ${lines}, here ${g.__barrierActions}`);
    } finally {
      await Promise.all(kids.map((k) => k.kill()));
    }
  });

  test("an action that throws breaks the barrier; that party gets the error", async () => {
    const b = new Barrier(2, { action: () => { throw new RangeError("bad action"); } });
    const other = copy(b).wait(10_000).catch((e) => e);
    await sleep(100);
    await assert.rejects(b.wait(10_000), RangeError);
    assert.ok((await other) instanceof BrokenBarrierError);
    assert.equal(await b.broken(), true);
  });

  test("a barrier whose action cannot be shipped refuses to travel", () => {
    const counter = { n: 0 };
    const b = new Barrier(2, { action: function (this: { n: number }) { this.n++; }.bind(counter) });
    assert.throws(() => handleRecord(b), SerializationError);
    // A self-contained action travels by source.
    assert.doesNotThrow(() => handleRecord(new Barrier(2, { action: () => console.log("all here") })));
  });

  test("abort breaks it for every party until reset (BAR-05, BAR-07)", async () => {
    const n = 4;
    const b = new Barrier(n);
    const waiting = settle(Array.from({ length: n - 1 }, () => copy(b).wait(10_000)));
    while ((await b.nWaiting()) < n - 1) await sleep(20);
    await b.abort();
    const results = await waiting;
    assert.ok(results.every((r) => r instanceof BrokenBarrierError), String(results));
    assert.equal(await b.broken(), true);
    await assert.rejects(b.wait(1000), BrokenBarrierError);
    await b.reset();
    assert.equal(await b.broken(), false);
    const again = await Promise.all(Array.from({ length: n }, () => copy(b).wait(10_000)));
    assert.deepEqual(again.sort(), [0, 1, 2, 3]);
  });

  test("reset breaks current waiters, then everyone passes again (BAR-06)", async () => {
    const n = 3;
    const b = new Barrier(n);
    const waiting = settle(Array.from({ length: n - 1 }, () => copy(b).wait(10_000)));
    while ((await b.nWaiting()) < n - 1) await sleep(20);
    await b.reset();
    const results = await waiting;
    assert.ok(results.every((r) => r instanceof BrokenBarrierError));
    const again = await Promise.all(Array.from({ length: n }, () => copy(b).wait(10_000)));
    assert.deepEqual(again.sort(), [0, 1, 2]);
  });

  test("a timeout breaks it for every party, the late one included (BAR-08, BAR-09)", async () => {
    for (const useDefault of [false, true]) {
      const n = 3;
      const b = new Barrier(n, useDefault ? { timeout: 300 } : {});
      const t0 = performance.now();
      const waiting = Array.from({ length: n - 1 }, () => (useDefault ? copy(b).wait() : copy(b).wait(300)));
      const late = sleep(900).then(() => b.wait(useDefault ? undefined : 300));
      const results = await settle([...waiting, late]); // settle attaches handlers at once
      assert.ok(results.every((r) => r instanceof BrokenBarrierError), String(results));
      assert.ok(performance.now() - t0 < 900 + LOOSE);
    }
  });

  test("parties in other processes: lockstep over many generations (BAR-01, BAR-11)", async () => {
    const n = 5;
    const passes = Number(globalThis.process?.env?.SKYPOOL_BARRIER_PASSES ?? 1000);
    const b = new Barrier(n, { timeout: 60_000 });
    const arrivals = new Semaphore(0);
    const children: Child[] = [];
    try {
      for (let i = 0; i < n; i++) children.push(runChild("barrier-loop", { barrier: wire(b), arrivals: wire(arrivals), passes }));
      const codes = await Promise.all(children.map((c) => c.exited));
      assert.deepEqual(codes, Array(n).fill(0), children.map((c) => c.stderr()).join("\n"));
      assert.equal(await arrivals.getValue(), n * passes);
      assert.equal(await b.nWaiting(), 0);
      assert.equal(await b.broken(), false);
    } finally {
      await Promise.all(children.map((c) => c.kill()));
    }
  });

  test("indices from parties in other processes (BAR-03)", async () => {
    const b = new Barrier(3);
    const kids = [runChild("barrier-wait", { barrier: wire(b), timeout: 20_000 }), runChild("barrier-wait", { barrier: wire(b), timeout: 20_000 })];
    const mine = await b.wait(20_000);
    const theirs = await Promise.all(kids.map(async (k) => Number((await k.waitForLine(/^index /)).split(" ")[1])));
    assert.deepEqual([mine, ...theirs].sort(), [0, 1, 2]);
  });
});
