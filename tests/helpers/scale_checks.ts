/**
 * Test helper: exact counts at scale on a remote transport (issue 14,
 * point 3). Pool.map, Pool.imapUnordered and FunctionExecutor.map each over
 * {@link SCALE_ITEMS} items in chunks of one: more batches than any
 * in-flight window, so a batch lost or answered twice between the caller and
 * the workers shows as a missing, extra or misplaced result.
 *
 * @module
 */
import assert from "node:assert/strict";
import { FunctionExecutor } from "../../src/executor/function_executor.ts";
import { Pool } from "../../src/pool.ts";
import { collect, withTimeout } from "./pool_fixtures.ts";

/** Items per API: odd, and no multiple of any window size. */
export const SCALE_ITEMS = 3001;

/** Runs the three APIs on `transport` with `slots` batches in flight and checks every result arrives exactly once, in its slot. */
export async function checkEveryResultOnce(transport: "http" | "fleet", slots: number): Promise<void> {
  const items = Array.from({ length: SCALE_ITEMS }, (_, i) => i * 5 + 2);
  const expected = items.map((x) => x * 3 - 1);
  const f = (x: number) => x * 3 - 1;
  const pool = new Pool({ processes: slots, transport });
  try {
    const mapped = await withTimeout(pool.map(f, items, 1), 60_000, `${transport} Pool.map`);
    assert.equal(mapped.length, SCALE_ITEMS, `Pool.map delivered ${mapped.length} of ${SCALE_ITEMS}`);
    assert.deepEqual(mapped, expected);
    const unordered = await collect(pool.imapUnordered(f, items, 1), 60_000, `${transport} Pool.imapUnordered`);
    assert.equal(unordered.length, SCALE_ITEMS, `imapUnordered delivered ${unordered.length} of ${SCALE_ITEMS}`);
    assert.deepEqual(unordered.sort((a, b) => a - b), expected);
  } finally {
    await pool.terminate();
  }
  const fexec = new FunctionExecutor({ transport, workers: slots, showProgressbar: false });
  try {
    const futures = await fexec.map(f, items, { chunksize: 1 });
    assert.equal(futures.length, SCALE_ITEMS);
    assert.deepEqual(await withTimeout(fexec.getResult(futures), 60_000, `${transport} FunctionExecutor.map`), expected);
    assert.ok(futures.every((fu) => fu.status === "success" && fu.stats.attempts === 1), "every call ran once");
  } finally {
    await fexec[Symbol.asyncDispose]();
  }
}
