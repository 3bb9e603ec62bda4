import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { runProbe as runHelperProbe } from "./helpers/run_probe.ts";

/** Runs the probe with `DEBUG` set to `debug` (or removed when undefined). */
function runProbe(debug: string | undefined): Promise<{ stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = { ...process.env, DEBUG: debug };
  if (debug === undefined) delete env.DEBUG;
  return runHelperProbe("debug_probe", env);
}

function counts(stdout: string): { afterImport: number; afterMap: number } {
  const a = /after import (\d+)/.exec(stdout);
  const b = /after map (\d+)/.exec(stdout);
  assert.ok(a && b, stdout);
  return { afterImport: Number(a[1]), afterMap: Number(b[1]) };
}

test("without DEBUG, the debug package is never loaded and nothing is logged", async () => {
  const { stdout, stderr } = await runProbe(undefined);
  const c = counts(stdout);
  assert.equal(c.afterImport, 0, "debug loaded by the import");
  assert.equal(c.afterMap, 0, "debug loaded by running a pool with logging off");
  assert.doesNotMatch(stderr, /skypool:/);
});

test("DEBUG naming other namespaces only does not load the debug package", async () => {
  const { stdout, stderr } = await runProbe("express:*");
  assert.deepEqual(counts(stdout), { afterImport: 0, afterMap: 0 });
  assert.doesNotMatch(stderr, /skypool:/);
});

test("DEBUG=skypool:* logs worker start and exit and the chunking decision", async () => {
  const { stdout, stderr } = await runProbe("skypool:*");
  const c = counts(stdout);
  assert.equal(c.afterImport, 0, "debug loads on the first message, not at import");
  assert.ok(c.afterMap > 0, "debug was loaded to write the messages");
  assert.match(stderr, /skypool:worker worker 1 \(pid \d+\) starting/);
  assert.match(stderr, /skypool:worker worker 1 \(pid \d+\) ready/);
  assert.match(stderr, /skypool:pool map: chunksize 1 for 3 items on 1 processes/);
  assert.match(stderr, /skypool:worker worker 1 \(pid \d+\) was killed by SIGTERM/);
});

test("DEBUG=skypool:pool logs only that namespace", async () => {
  const { stderr } = await runProbe("skypool:pool");
  assert.match(stderr, /skypool:pool map: chunksize/);
  assert.doesNotMatch(stderr, /skypool:worker/);
});
