// Pool, Process and FunctionExecutor on `transport: "fleet"`, and the README's
// Lock/Queue/Manager example on fleet workers (the handles name the TCP
// Redis the workers reach).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FunctionExecutor, Lock, Manager, Pool, Process, Queue, RawValue } from "../../mod.ts";
import { config } from "../../src/config.ts";
import { type FleetFixture, startFleet } from "../helpers/fleet_setup.ts";
import { checkEveryResultOnce, SCALE_ITEMS } from "../helpers/scale_checks.ts";
import { makeTempDir, removeDir, sleepMs, sqr, throwTypeErrorMarker, withTimeout, writeJson } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };

describe("the public API on fleet", () => {
  let fleet: FleetFixture;
  before(async () => {
    fleet = await startFleet({ handler: "core", concurrency: 4, leaseMs: 2000 });
    config.set({ authkey: "fleet-api-key-0123456789" });
    await Promise.all([fleet.startWorker(), fleet.startWorker()]);
  });
  after(() => fleet.stop());

  test("Pool: map, starmap, apply and a task's error", T, async () => {
    await using pool = new Pool({ processes: 4, transport: "fleet" });
    const xs = Array.from({ length: 500 }, (_, i) => i);
    assert.deepEqual(await withTimeout(pool.map(sqr, xs), 60_000, "map"), xs.map((x) => x * x));
    assert.deepEqual(await withTimeout(pool.starmap((a: number, b: number) => a + b, [[1, 2], [3, 4]]), 60_000, "starmap"), [3, 7]);
    assert.equal(await withTimeout(pool.apply((s: string) => s.toUpperCase(), ["fleet"]), 60_000, "apply"), "FLEET");
    await assert.rejects(pool.apply(() => {
      throw new RangeError("from a fleet worker");
    }), (err) => err instanceof RangeError && err.message === "from a fleet worker");
  });

  test(`Pool.map, imapUnordered and FunctionExecutor.map over ${SCALE_ITEMS} one-item batches each: every result exactly once`, T, async () => {
    await checkEveryResultOnce("fleet", 8);
  });

  test("FunctionExecutor: callAsync and map", T, async () => {
    await using fexec = new FunctionExecutor({ transport: "fleet", workers: 4 });
    const one = await fexec.callAsync((x: number) => x * 2, 21);
    assert.equal(await withTimeout(fexec.getResult(one), 60_000, "callAsync"), 42);
    const many = await fexec.map((x: number) => x + 1, [1, 2, 3, 4, 5]);
    assert.deepEqual(await withTimeout(fexec.getResult(many), 60_000, "map"), [2, 3, 4, 5, 6]);
  });

  test("the README's Lock, Queue and Manager example runs on fleet workers", T, async () => {
    await using pool = new Pool({ processes: 2, transport: "fleet" });
    const lock = new Lock();
    const counter = new RawValue("i", 0);
    const done = new Queue<number>();
    await withTimeout(pool.starmap(async (id: number, lock: Lock, counter: RawValue<"i">, done: Queue<number>) => {
      for (let i = 0; i < 100; i++) {
        await lock.acquire();
        await counter.set((await counter.get()) + 1);
        await lock.release();
      }
      await done.put(id);
    }, [0, 1, 2, 3].map((id) => [id, lock, counter, done] as const)), 60_000, "starmap under a lock");
    assert.equal(await counter.get(), 400);
    const finished: number[] = [];
    for (let i = 0; i < 4; i++) finished.push(await done.get({ timeout: 5_000 }));
    assert.deepEqual(finished.sort(), [0, 1, 2, 3]);

    await using manager = await new Manager().start();
    const shared = manager.dict<number>();
    await withTimeout(pool.starmap(async (name: string, scores: typeof shared) => {
      await scores.set(name, name.length);
    }, ["ann", "bob", "carol"].map((n) => [n, shared] as const)), 60_000, "manager dict");
    assert.deepEqual(Object.fromEntries(Object.entries(await shared.toObject()).sort()), { ann: 3, bob: 3, carol: 5 });
  });
});

describe("Process on fleet", () => {
  let fleet: FleetFixture;
  let dir: string;
  before(async () => {
    fleet = await startFleet({ handler: "core", concurrency: 2, leaseMs: 2000 });
    config.set({ authkey: "fleet-process-key-0123456789" });
    await fleet.startWorker();
    dir = await makeTempDir("skypool-fleet-process-");
  });
  after(async () => {
    await fleet.stop();
    await removeDir(dir);
  });

  test("the target runs on a worker: exitcode 0, its side effect done there", T, async () => {
    const path = join(dir, "ran");
    const p = new Process({ target: writeJson, args: [path, "from", "fleet"], transport: "fleet" });
    p.start();
    assert.equal(p.isAlive(), true);
    await withTimeout(p.join(), 60_000, "join");
    assert.equal(p.exitcode, 0);
    assert.equal(p.pid, undefined);
    assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), ["from", "fleet"]);
  });

  test("a target that throws: exitcode 1 and the remote error", T, async () => {
    const p = new Process({ target: throwTypeErrorMarker, args: ["remote boom"], transport: "fleet" });
    p.start();
    await withTimeout(p.join(), 60_000, "join");
    assert.equal(p.exitcode, 1);
    assert.ok(p.error instanceof TypeError && p.error.message === "remote boom", String(p.error));
  });

  test("terminate() stops waiting: exitcode -15", T, async () => {
    const p = new Process({ target: sleepMs, args: [5_000], transport: "fleet" });
    p.start();
    await withTimeout(p.terminate(), 30_000, "terminate");
    assert.equal(p.exitcode, -15);
    assert.equal(p.isAlive(), false);
  });
});
