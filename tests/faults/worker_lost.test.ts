// Issue 7, fault suite: a worker killed or exiting in the middle of a map,
// 50 times in a row. Every time the map fails with WorkerLostError naming
// the worker, the pool goes on, and no worker process is left behind.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { Pool, WorkerLostError } from "../../mod.ts";
import { makeTempDir, removeDir, sqr, waitForFile, withTimeout } from "../helpers/pool_fixtures.ts";
import { runningProcesses, waitUntilGone } from "../helpers/process_table.ts";

const ROUNDS = 50;
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/**
 * Shipped by source. The item given a marker path writes its pid there,
 * then waits 60 s to be killed, or exits with `exitCode` when that is set;
 * the other items return at once.
 */
const victimAmong = async (marker: string, exitCode?: number): Promise<number> => {
  if (marker !== "") {
    (await import("node:fs")).writeFileSync(marker, String(process.pid));
    if (exitCode !== undefined) process.exit(exitCode);
    await new Promise((r) => setTimeout(r, 60_000));
  }
  return process.pid;
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Runs {@link ROUNDS} maps of five items on a pool of two; in each, the
 * last item's worker is SIGKILLed (`kill`) or calls `process.exit`
 * (`exit`) and the map must fail. For kills, prints the ms from each kill
 * to the map's rejection.
 */
async function loseWorkers(how: "kill" | "exit"): Promise<void> {
  const dir = await makeTempDir("skypool-lost-");
  const pool = new Pool(2);
  const victims: number[] = [];
  const latencies: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const marker = join(dir, `victim-${round}`);
      const exitCode = how === "exit" ? 3 + round : undefined;
      // The victim comes last: what came before it is done when it is lost,
      // so the time to the rejection is the time to notice the loss.
      const items = [["", undefined], ["", undefined], ["", undefined], ["", undefined], [marker, exitCode]];
      const map = pool.starmap(victimAmong, items, 1);
      const outcome = map.then(() => undefined, (err: unknown) => ({ err, at: performance.now() }));
      const pid = Number(await waitForFile(marker, 30_000));
      victims.push(pid);
      const endedAt = performance.now();
      if (how === "kill") process.kill(pid, "SIGKILL");
      const failed = await withTimeout(outcome, 30_000, `round ${round}`);
      assert.ok(failed, `round ${round}: the map succeeded though its worker ${pid} was lost`);
      assert.ok(failed.err instanceof WorkerLostError, `round ${round}: ${String(failed.err)}`);
      assert.match(failed.err.message, new RegExp(`pid ${pid}\\)`));
      assert.match(failed.err.message, how === "kill" ? /killed by SIGKILL/ : new RegExp(`exited with code ${exitCode}\\b`));
      // An exit happens before the marker is seen: only a kill's moment is known.
      if (how === "kill") latencies.push(failed.at - endedAt);
    }
    assert.deepEqual(await withTimeout(pool.map(sqr, [1, 2, 3]), 30_000, "map after the losses"), [1, 4, 9]);
    assert.equal(new Set(victims).size, ROUNDS, "each round lost a different worker process");
    assert.deepEqual((await waitUntilGone(victims, 5000)).left, [], "a lost worker still runs");
  } finally {
    await withTimeout(pool.terminate(), 15_000, "terminate");
    await removeDir(dir);
  }
  const left = runningProcesses("subprocess_main", true);
  if (left !== undefined) assert.deepEqual((await waitUntilGone(left, 5000)).left, [], "worker processes left after terminate()");
  if (how === "kill") {
    console.log(
      `${isDeno ? "deno" : "node"}: ${ROUNDS} workers killed, WorkerLostError after median ${median(latencies).toFixed(1)} ms, ` +
        `max ${Math.max(...latencies).toFixed(1)} ms`,
    );
  }
}

describe("workers lost in the middle of a map", { timeout: 240_000 }, () => {
  test(`${ROUNDS} SIGKILLs: each map fails with WorkerLostError naming the signal, and the pool goes on`, async () => {
    await loseWorkers("kill");
  });

  test(`${ROUNDS} process.exit calls: each map fails with WorkerLostError naming the code, and the pool goes on`, async () => {
    await loseWorkers("exit");
  });
});
