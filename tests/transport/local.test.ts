import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LocalTransport } from "../../src/transport/local.ts";
import type { BatchOutcome } from "../../src/transport/transport.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { shipFunction, type TaskFn } from "../../src/task/function_ref.ts";
import { StateError, WorkerLostError } from "../../src/errors.ts";
import { maxOverlap } from "../helpers/pool_fixtures.ts";

/** Submits one batch and waits (bounded) for its outcome. */
function run(t: LocalTransport, fn: TaskFn, argLists: unknown[][], ms = 30_000): Promise<BatchOutcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no outcome after ${ms} ms`)), ms);
    t.submit({ fn: shipFunction(fn), payload: encode(argLists), count: argLists.length }, (o) => {
      clearTimeout(timer);
      resolve(o);
    });
  });
}

function values(o: BatchOutcome): unknown[] {
  assert.equal(o.status, "ok", `expected ok, got ${o.status}: ${o.status === "lost" ? o.error.message : ""}`);
  return decode((o as { payload: Uint8Array }).payload) as unknown[];
}

const pidOf = (): number => process.pid;
/** Sleeps, then reports its worker's pid and when it ran (the machine's one clock): for overlap checks. */
const timedSleepPid = async (ms: number): Promise<[number, number, number]> => {
  const start = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return [process.pid, start, Date.now()];
};
const sleepThenPid = async (ms: number): Promise<number> => {
  await new Promise((r) => setTimeout(r, ms));
  return process.pid;
};

/** Waits until `n` workers have loaded (the second start-up wave comes after the first). */
async function untilReady(t: LocalTransport, n: number, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (t.stats.workersReady < n) {
    if (Date.now() > deadline) throw new Error(`only ${t.stats.workersReady} of ${n} workers ready after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function started(t: LocalTransport, setup = {}): LocalTransport {
  t.start(setup);
  return t;
}

describe("local transport", { timeout: 120_000 }, () => {
  test("a batch crosses to a worker process and its results come back in order", async (t) => {
    const tr = started(new LocalTransport({ processes: 2 }));
    t.after(() => tr.terminate());
    const out = values(await run(tr, (a: number, b: number) => a * b, [[2, 3], [4, 5], [6, 7]]));
    assert.deepEqual(out, [6, 20, 42]);
    const pid = values(await run(tr, pidOf, [[]]))[0];
    assert.notEqual(pid, process.pid);
  });

  test("16 MiB arguments and 16 MiB results cross at once on one worker without a deadlock", async (t) => {
    const tr = started(new LocalTransport({ processes: 1 }));
    t.after(() => tr.terminate());
    const size = 16 * 1024 * 1024;
    const make = (i: number) => String.fromCharCode(97 + i).repeat(size);
    const echoUpper = (s: string) => s.toUpperCase();
    // Teach the transport that echoUpper is quick, so that all six batches
    // are sent at once: results then flow back while tasks are still going out.
    for (let i = 0; i < 5; i++) await run(tr, echoUpper, [["warm"]]);
    const outs = await Promise.all(Array.from({ length: 6 }, (_, i) => run(tr, echoUpper, [[make(i)]], 120_000)));
    outs.forEach((o, i) => {
      const [v] = values(o) as string[];
      assert.equal(v.length, size);
      assert.equal(v[0], String.fromCharCode(65 + i));
      assert.equal(v[size - 1], String.fromCharCode(65 + i));
    });
  });

  test("a worker killed with SIGKILL fails its batch with WorkerLostError and is replaced", async (t) => {
    const tr = started(new LocalTransport({ processes: 1 }));
    t.after(() => tr.terminate());
    const victim = values(await run(tr, pidOf, [[]]))[0] as number;
    const pending = run(tr, sleepThenPid, [[10_000]]);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(victim, "SIGKILL");
    const lost = await pending;
    assert.equal(lost.status, "lost");
    const err = (lost as { error: Error }).error;
    assert.ok(err instanceof WorkerLostError, String(err));
    assert.match(err.message, /SIGKILL/);
    assert.match(err.message, new RegExp(`pid ${victim}`));
    const next = values(await run(tr, pidOf, [[]]))[0];
    assert.notEqual(next, victim);
  });

  test("process.exit inside a task is a WorkerLostError with the exit code; the next task runs", async (t) => {
    const tr = started(new LocalTransport({ processes: 1 }));
    t.after(() => tr.terminate());
    const lost = await run(tr, (code: number) => process.exit(code), [[7]]);
    assert.equal(lost.status, "lost");
    assert.match((lost as { error: Error }).error.message, /exited with code 7/);
    assert.deepEqual(values(await run(tr, (x: number) => x + 1, [[1]])), [2]);
  });

  test("a function is sent once per worker, however many batches use it", async (t) => {
    const tr = started(new LocalTransport({ processes: 2 }));
    t.after(() => tr.terminate());
    const inc = (x: number) => x + 1;
    const outs = await Promise.all(Array.from({ length: 200 }, (_, i) => run(tr, inc, [[i]])));
    assert.deepEqual(outs.map((o) => values(o)[0]), Array.from({ length: 200 }, (_, i) => i + 1));
    assert.ok(tr.stats.definesSent <= 2, `sent ${tr.stats.definesSent} definitions`);
  });

  test("a slow batch on one worker does not hold back quick batches that the idle worker can run", async (t) => {
    const tr = started(new LocalTransport({ processes: 2 }));
    t.after(() => tr.terminate());
    await untilReady(tr, 2);
    // Teach the transport that this function is quick, so pipelining is allowed.
    const quick = (x: number) => [x, process.pid];
    await Promise.all(Array.from({ length: 50 }, (_, i) => run(tr, quick, [[i]])));
    const slow = run(tr, timedSleepPid, [[3000]]);
    await new Promise((r) => setTimeout(r, 100));
    const quickOuts = await Promise.all(Array.from({ length: 100 }, (_, i) => run(tr, quick, [[i]])));
    const quickDone = Date.now();
    const [slowPid, , slowEnd] = values(await slow)[0] as number[];
    assert.ok(quickDone < slowEnd, `the quick batches finished ${quickDone - slowEnd} ms after the slow one`);
    for (const o of quickOuts) assert.notEqual((values(o)[0] as number[])[1], slowPid);
  });

  test("queued batches are shared: two slow batches on two workers run in parallel", async (t) => {
    const tr = started(new LocalTransport({ processes: 2 }));
    t.after(() => tr.terminate());
    await untilReady(tr, 2);
    const outs = await Promise.all([run(tr, timedSleepPid, [[800]]), run(tr, timedSleepPid, [[800]])]);
    const [a, b] = outs.map((o) => values(o)[0] as number[]);
    assert.notEqual(a[0], b[0]);
    assert.equal(maxOverlap([[a[1], a[2]], [b[1], b[2]]]), 2, `the two batches ran at ${JSON.stringify([a, b])}`);
  });

  test("maxtasksperchild recycles a worker after that many batches", async (t) => {
    const tr = started(new LocalTransport({ processes: 1 }), { maxtasksperchild: 2 });
    t.after(() => tr.terminate());
    const pids: number[] = [];
    for (let i = 0; i < 6; i++) pids.push(values(await run(tr, pidOf, [[]]))[0] as number);
    assert.equal(pids[0], pids[1]);
    assert.equal(pids[2], pids[3]);
    assert.equal(pids[4], pids[5]);
    assert.equal(new Set(pids).size, 3);
  });

  test("start-up: every worker starts, in waves, with or without work, and a long first task does not hold the rest back", async (t) => {
    const idle = started(new LocalTransport({ processes: 3 }));
    t.after(() => idle.terminate());
    await untilReady(idle, 3);
    assert.equal(idle.stats.workersStarted, 3);

    const busy = started(new LocalTransport({ processes: 3 }));
    t.after(() => busy.terminate());
    const outs = (await Promise.all(Array.from({ length: 3 }, () => run(busy, timedSleepPid, [[1500]])))).map((o) => values(o)[0] as number[]);
    assert.equal(new Set(outs.map(([pid]) => pid)).size, 3, "three long batches ran on three workers");
    assert.equal(maxOverlap(outs.map(([, start, end]) => [start, end])), 3, `the three batches ran at ${JSON.stringify(outs)}`);
    assert.equal(busy.stats.workersStarted, 3);
  });

  test("the initializer runs once in each worker before its first batch", async (t) => {
    const init = (v: string) => {
      const g = globalThis as { __initRuns?: string[] };
      (g.__initRuns ??= []).push(v);
    };
    const tr = started(new LocalTransport({ processes: 2 }), { initializer: { fn: shipFunction(init), args: encode(["hi"]) } });
    t.after(() => tr.terminate());
    // Both must be up for the two batches to land on different workers.
    await untilReady(tr, 2);
    const read = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return [process.pid, (globalThis as { __initRuns?: string[] }).__initRuns];
    };
    const outs = await Promise.all([run(tr, read, [[300]]), run(tr, read, [[300]])]);
    const seen = outs.map((o) => values(o)[0] as [number, string[]]);
    assert.notEqual(seen[0][0], seen[1][0]);
    for (const [, runs] of seen) assert.deepEqual(runs, ["hi"]);
  });

  test("an initializer that throws fails every batch with WorkerLostError caused by it, without hanging", async (t) => {
    const bad = () => {
      throw new TypeError("init exploded");
    };
    const tr = started(new LocalTransport({ processes: 2 }), { initializer: { fn: shipFunction(bad), args: encode([]) } });
    t.after(() => tr.terminate());
    const outs = await Promise.all([run(tr, pidOf, [[]]), run(tr, pidOf, [[]]), run(tr, pidOf, [[]])]);
    for (const o of outs) {
      assert.equal(o.status, "lost");
      const err = (o as { error: Error }).error;
      assert.ok(err instanceof WorkerLostError);
      assert.match(err.message, /initializer failed.*init exploded/);
    }
    const later = await run(tr, pidOf, [[]]);
    assert.equal(later.status, "lost");
  });

  test("terminate() fails running and queued batches at once and stops the workers", async (t) => {
    const tr = started(new LocalTransport({ processes: 2 }));
    // The test terminates it itself; this only stops it when an assertion fails first.
    t.after(() => tr.terminate());
    await Promise.all([run(tr, pidOf, [[]]), run(tr, pidOf, [[]])]);
    const pids = tr.pids;
    const outs = Array.from({ length: 20 }, () => run(tr, sleepThenPid, [[5000]]));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await tr.terminate();
    const all = await Promise.all(outs);
    assert.ok(Date.now() - t0 < 4000);
    for (const o of all) {
      assert.equal(o.status, "lost");
      const err = (o as { error: Error }).error;
      assert.ok(err instanceof StateError || err instanceof WorkerLostError, String(err));
    }
    for (const pid of pids) assert.throws(() => process.kill(pid, 0));
    const after = await run(tr, pidOf, [[]]);
    assert.equal(after.status, "lost");
  });

  test("close() lets queued batches finish, then the workers exit", async (t) => {
    const tr = started(new LocalTransport({ processes: 1 }));
    t.after(() => tr.terminate());
    const outs = Array.from({ length: 3 }, (_, i) => run(tr, async (x: number) => {
      await new Promise((r) => setTimeout(r, 100));
      return x;
    }, [[i]]));
    await new Promise((r) => setTimeout(r, 50));
    const closed = tr.close();
    assert.deepEqual((await Promise.all(outs)).map((o) => values(o)[0]), [0, 1, 2]);
    await closed;
    assert.deepEqual(tr.pids, []);
  });
});

describe("local transport: mispredicted run times", { timeout: 60_000 }, () => {
  test("batches queued behind a task that turned out slow are taken back for an idle worker", async (t) => {
    const tr = started(new LocalTransport({ processes: 2 }));
    t.after(() => tr.terminate());
    const napPid = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return process.pid;
    };
    // Teach the transport that napPid is quick...
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 20 }, () => run(tr, napPid, [[0]])));
    // ...then make one call slow and queue quick ones in the same tick.
    const t0 = Date.now();
    const slow = run(tr, napPid, [[3000]]);
    const quick = Array.from({ length: 9 }, () => run(tr, napPid, [[20]]));
    const quickPids = (await Promise.all(quick)).map((o) => values(o)[0]);
    const quickMs = Date.now() - t0;
    const slowPid = values(await slow)[0];
    assert.ok(quickMs < 2500, `quick batches waited ${quickMs} ms behind the slow one`);
    assert.ok(!quickPids.includes(slowPid), "no quick batch ran on the busy worker after it was taken back");
  });
});
