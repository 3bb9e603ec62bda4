// Issue 9: `kill -9` of a fleet worker in the middle of a 200-task job.
// Its batches are taken over by the surviving workers once idle past
// leaseMs; every task's result arrives exactly once (a task may run twice,
// its result is delivered once), within leaseMs and a few seconds.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { config } from "../../src/config.ts";
import { type FleetFixture, startFleet } from "../helpers/fleet_setup.ts";
import { withTimeout } from "../helpers/pool_fixtures.ts";

const LEASE_MS = 1500;

/** Sleeps `ms` and answers the task's index with the worker's pid. */
const slowEcho = async (i: number, ms = 30): Promise<[number, number]> => {
  await new Promise((r) => setTimeout(r, ms));
  return [i, (await import("node:process")).default.pid];
};

describe("fleet: a worker killed mid-job", () => {
  let fleet: FleetFixture;
  before(async () => {
    fleet = await startFleet({ handler: "core", concurrency: 4, leaseMs: LEASE_MS });
    config.set({ authkey: "fleet-kill-key-0123456789" });
  });
  after(() => fleet.stop());

  test("every one of 200 tasks' results arrives exactly once, within the lease and a few seconds of the kill", { timeout: 120_000 }, async () => {
    const [victim, ...others] = await Promise.all([fleet.startWorker(), fleet.startWorker(), fleet.startWorker()]);
    await using pool = new Pool({ processes: 12, transport: "fleet" });
    const seen = new Map<number, number>();
    let killedAt = 0;
    const it = pool.imapUnordered(slowEcho, Array.from({ length: 200 }, (_, i) => i), 1);
    const all = (async () => {
      for await (const [i] of it) {
        seen.set(i, (seen.get(i) ?? 0) + 1);
        if (seen.size === 50) {
          killedAt = performance.now();
          victim.proc.kill("SIGKILL");
        }
      }
    })();
    await withTimeout(all, 90_000, "200 tasks with a worker killed");
    const afterKill = performance.now() - killedAt;
    assert.ok(killedAt > 0);
    assert.equal(await victim.exited, "SIGKILL");
    assert.equal(seen.size, 200, "every task's result arrived");
    assert.deepEqual([...seen].filter(([, n]) => n !== 1), [], "no result arrived twice");
    // The last batches of the victim wait out the lease, then run on a survivor.
    assert.ok(afterKill < LEASE_MS + 10_000, `done ${Math.round(afterKill)} ms after the kill`);
    assert.ok(others.every((w) => w.proc.exitCode === null), "the survivors still serve");
  });

  test("a worker started after the job began takes tasks", { timeout: 120_000 }, async () => {
    await fleet.killWorkers();
    const first = await fleet.startWorker({ concurrency: 1 });
    await using pool = new Pool({ processes: 8, transport: "fleet" });
    // 40 × 150 ms: 6 s on the first worker alone, longer than a worker takes to start.
    const job = pool.starmap(slowEcho, Array.from({ length: 40 }, (_, i) => [i, 150] as [number, number]), 1);
    await new Promise((r) => setTimeout(r, 300));
    const late = await fleet.startWorker({ concurrency: 4 });
    const results = await withTimeout(job, 90_000, "40 tasks");
    assert.deepEqual(results.map(([i]) => i), Array.from({ length: 40 }, (_, i) => i));
    const pids = new Set(results.map(([, pid]) => pid));
    assert.ok(pids.has(late.proc.pid!), "the late worker ran tasks");
    assert.ok(pids.has(first.proc.pid!));
  });
});
