// Chunks over a transport's byte budget are cut into batches that fit:
// the pieces keep the chunk's order, a chunk still ends once with one
// outcome, and a single task over the budget stays one batch.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { config } from "../../src/config.ts";
import { cutBySize, joinOutcomes } from "../../src/execution/batch_cutter.ts";
import { RemoteTransport } from "../../src/remote/remote_transport.ts";
import { encode } from "../../src/task/codec.ts";
import type { TaskFn } from "../../src/task/function_ref.ts";
import { failureOf, runChunk, withCore } from "../helpers/core_fixtures.ts";
import { inMemoryChannel } from "../helpers/remote_channel.ts";

const KB = 1024;

describe("cutBySize", () => {
  test("a chunk within the budget is one piece, encoded once", () => {
    const tasks = [1, 2, 3];
    const payload = encode(tasks);
    const pieces = cutBySize(tasks, payload, payload.length);
    assert.equal(pieces.length, 1);
    assert.equal(pieces[0].payload, payload);
  });

  test("pieces fit the budget, keep the order and hold every task once", () => {
    // Uneven sizes: the even cut by count leaves a piece over the budget, which is cut again.
    const tasks = Array.from({ length: 40 }, (_, i) => "x".repeat(i % 7 === 0 ? 3 * KB : 200) + i);
    const pieces = cutBySize(tasks, encode(tasks), 4 * KB);
    assert.ok(pieces.length >= 5, `${pieces.length} pieces`);
    for (const p of pieces) {
      assert.ok(p.payload.length <= 4 * KB, `a piece of ${p.payload.length} bytes`);
      assert.deepEqual(p.payload, encode(p.tasks));
    }
    assert.deepEqual(pieces.flatMap((p) => p.tasks), tasks);
  });

  test("a task larger than the budget stays a piece of its own", () => {
    const tasks = ["a", "b".repeat(10 * KB), "c"];
    const pieces = cutBySize(tasks, encode(tasks), 2 * KB);
    assert.deepEqual(pieces.map((p) => p.tasks.length), [1, 1, 1]);
    assert.ok(pieces[1].payload.length > 10 * KB);
  });
});

describe("joinOutcomes", () => {
  test("all succeeded: the values in order; else the first failed piece's error", () => {
    assert.deepEqual(joinOutcomes([{ ok: true, values: [1] }, { ok: true, values: [2, 3] }]), { ok: true, values: [1, 2, 3] });
    const first = new Error("first");
    const joined = joinOutcomes([{ ok: true, values: [1] }, { ok: false, error: first }, { ok: false, error: new Error("second") }]);
    assert.deepEqual(joined, { ok: false, error: first });
  });
});

describe("a transport with a byte budget", () => {
  before(() => config.set({ authkey: "batch-cutter-test-key-0123" }));
  after(() => config.reset());

  test("a chunk over the budget goes as several batches, and its values come back in order", async () => {
    const channel = inMemoryChannel({ maxBatchBytes: 8 * KB });
    const items = Array.from({ length: 30 }, (_, i) => `${i}:${"y".repeat(KB)}`);
    const o = await withCore(new RemoteTransport(channel, { size: 3 }), (core) =>
      runChunk(core, ((s: string) => Number(s.split(":")[0]) * 2) as TaskFn, items));
    assert.deepEqual(o.ok && o.values, items.map((_, i) => i * 2));
    assert.ok(channel.sent.length >= 4, `${channel.sent.length} batches for 30 KB at 8 KB each`);
  });

  test("the stats count a cut chunk's tasks once, as the chunk's: all failed when one piece fails", async () => {
    const channel = inMemoryChannel({ maxBatchBytes: 4 * KB });
    const items = Array.from({ length: 12 }, (_, i) => `${i}:${"v".repeat(KB)}`);
    const fn = ((s: string) => {
      if (s.startsWith("11:")) throw new RangeError("the last item");
      return s.length;
    }) as TaskFn;
    await withCore(new RemoteTransport(channel, { size: 4 }), async (core) => {
      const failed = await runChunk(core, fn, items);
      assert.equal(failureOf(failed).message, "the last item");
      assert.ok(channel.sent.length >= 3, `${channel.sent.length} pieces`);
      assert.deepEqual([core.stats.tasksDone, core.stats.tasksFailed], [0, 12]);
      const ok = await runChunk(core, fn, items.slice(0, 11));
      assert.ok(ok.ok);
      assert.deepEqual([core.stats.tasksDone, core.stats.tasksFailed], [11, 12]);
    });
  });

  test("a piece that throws fails the whole chunk with the first error in order", async () => {
    const channel = inMemoryChannel({ maxBatchBytes: 4 * KB });
    const items = Array.from({ length: 12 }, (_, i) => `${i}:${"z".repeat(KB)}`);
    const o = await withCore(new RemoteTransport(channel, { size: 4 }), (core) =>
      runChunk(core, ((s: string) => {
        const i = Number(s.split(":")[0]);
        if (i === 5 || i === 10) throw new RangeError(`bad ${i}`);
        return i;
      }) as TaskFn, items));
    assert.equal(failureOf(o).message, "bad 5");
    assert.ok(channel.sent.length >= 3);
  });

  test("stopping a cut chunk ends it once, with the stop's error", async () => {
    const channel = inMemoryChannel({ maxBatchBytes: 4 * KB, delayMs: 5_000 });
    const items = Array.from({ length: 12 }, () => "w".repeat(KB));
    await withCore(new RemoteTransport(channel, { size: 4 }), async (core) => {
      const outcomes: unknown[] = [];
      const ticket = core.submitter((s: string) => s.length)(items, true, (o) => outcomes.push(o));
      assert.ok(ticket.bytes > 12 * KB);
      const stop = new Error("stopped");
      ticket.stop(stop);
      assert.deepEqual(outcomes, [{ ok: false, error: stop }]);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(outcomes.length, 1, "one outcome for the chunk");
    });
  });
});
