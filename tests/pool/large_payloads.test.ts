// Large tasks and results crossing at once must not deadlock
// (lambda_multiprocessing issue #17; catalogue LMP-34..36, POOL-22, 16).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { identity, maxOverlap, withTimeout } from "../helpers/pool_fixtures.ts";

const MiB16 = 1 << 24;
const T = { timeout: 120_000 };

/** Six different 16 MiB strings ("aaa…", "bbb…", …), each with a distinct tail. */
function payloads(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i).repeat(MiB16 - 8) + `#tail-${i}#`);
}

describe("large payloads", () => {
  test("6 × 16 MiB strings through map on one worker, tasks and results crossing (LMP-34)", T, async () => {
    const pool = new Pool(1);
    try {
      const data = payloads(6);
      const t0 = Date.now();
      const out = await withTimeout(pool.map(identity, data), 90_000, "map of 6 × 16 MiB");
      const ms = Date.now() - t0;
      assert.equal(out.length, 6);
      for (let i = 0; i < 6; i++) {
        assert.equal(out[i].length, data[i].length, `item ${i} length`);
        assert.ok(out[i] === data[i], `item ${i} content`);
      }
      console.log(`6 x 16 MiB identity map on Pool(1): ${ms} ms`);
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("3 × 16 MiB strings through mapAsync(...).get() on one worker (LMP-35)", T, async () => {
    const pool = new Pool(1);
    try {
      const data = payloads(3);
      const echoWithSleep = async (s: string) => {
        await new Promise((r) => setTimeout(r, 50));
        return s;
      };
      const out = await withTimeout(pool.mapAsync(echoWithSleep, data, { chunksize: 1 }).get(), 90_000, "mapAsync");
      assert.deepEqual(out.map((s) => s.length), data.map((s) => s.length));
      assert.ok(out.every((s, i) => s === data[i]));
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("mapAsync with 6 × 16 MiB payloads returns at once and runs two at a time on Pool(2) (LMP-36)", T, async () => {
    const pool = new Pool(2);
    try {
      const data = payloads(6);
      // Each task records when it ran, on the machine's one clock: overlap is
      // judged from those intervals, not from a wall-clock total.
      const lengthAfterSleep = async (s: string) => {
        const start = Date.now();
        await new Promise((r) => setTimeout(r, 1000));
        return [s.length, start, Date.now()];
      };
      const t0 = Date.now();
      const r = pool.mapAsync(lengthAfterSleep, data);
      const submitMs = Date.now() - t0;
      assert.ok(submitMs < 1000, `mapAsync blocked the caller for ${submitMs} ms`);
      const rows = await withTimeout(r.get(60_000), 70_000, "get") as [number, number, number][];
      assert.deepEqual(rows.map(([n]) => n), data.map((s) => s.length));
      assert.equal(maxOverlap(rows.map(([, a, b]) => [a, b])), 2, `intervals ${JSON.stringify(rows.map(([, a, b]) => [a - t0, b - t0]))}`);
      console.log(`mapAsync 6 x 16 MiB, 1 s each, Pool(2): submit ${submitMs} ms, total ${Date.now() - t0} ms`);
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });

  test("binary payloads arrive intact both ways, and large error messages too", T, async () => {
    const pool = new Pool(1);
    try {
      const bytes = new Uint8Array(8 << 20);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
      const sumAndInvert = (b: Uint8Array): [number, Uint8Array] => {
        let sum = 0;
        for (let i = 0; i < b.length; i++) sum = (sum + b[i] * (i % 13 + 1)) >>> 0;
        const inv = new Uint8Array(b.length);
        for (let i = 0; i < b.length; i++) inv[i] = 255 - b[i];
        return [sum, inv];
      };
      const [sum, inv] = await withTimeout(pool.apply(sumAndInvert, [bytes]), 60_000, "bytes");
      const [localSum] = sumAndInvert(bytes);
      assert.equal(sum, localSum);
      assert.equal(inv.length, bytes.length);
      for (let i = 0; i < bytes.length; i += 4099) assert.equal(inv[i], 255 - bytes[i]);
      await assert.rejects(
        withTimeout(pool.apply((n: number) => {
          throw new RangeError("e".repeat(n));
        }, [4 << 20]), 60_000, "4 MiB error"),
        (err: unknown) => err instanceof RangeError && err.message.length === 4 << 20,
      );
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
  });
});
