// The worker side of the futures API: how runCalls times calls.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { expandBounds, runCalls } from "../../src/executor/call_runner.ts";

describe("runCalls timing", () => {
  test("quick calls share clock readings; the report carries readings, not a time per call", async () => {
    const items = Array.from({ length: 5000 }, (_, i) => i);
    const returned = runCalls((x) => (x as number) + 1, { extraArgs: [] }, items, "w");
    assert.ok(!(returned instanceof Promise), "a batch of synchronous calls is answered synchronously");
    const report = await returned;
    assert.equal(report.results[4999], 5000);
    assert.ok(report.marks.length < items.length / 4, `${report.marks.length} readings for ${items.length} quick calls`);
    assert.equal(report.at[0], 0);
    assert.equal(report.at[report.at.length - 1], items.length);
    const bounds = expandBounds(report.marks, report.at, items.length);
    assert.equal(bounds[0], report.workerStartTime);
    assert.equal(bounds[items.length], report.workerEndTime);
    for (let i = 0; i < items.length; i++) assert.ok(bounds[i] <= bounds[i + 1], `call ${i} ends before it starts`);
  });

  test("a call that awaits is timed on its own, whatever ran before it", async () => {
    const items = [...Array.from({ length: 200 }, () => 0), 40, 0];
    const sleepOrNot = (ms: unknown) => (ms === 0 ? 0 : new Promise((r) => setTimeout(() => r(ms), ms as number)));
    const report = await runCalls(sleepOrNot, { extraArgs: [] }, items, "w");
    const bounds = expandBounds(report.marks, report.at, items.length);
    assert.ok(bounds[201] - bounds[200] >= 35, `the 40 ms call got ${bounds[201] - bounds[200]} ms`);
    // The quick calls around it do not share its time.
    assert.ok(bounds[200] - bounds[0] < 35, `the 200 quick calls before it got ${bounds[200] - bounds[0]} ms`);
    assert.ok(bounds[202] - bounds[201] < 35);
  });

  test("a call that throws is reported on its own and the others still run", async () => {
    const report = await runCalls((x) => {
      if (x === 2) throw new RangeError("two");
      return x;
    }, { extraArgs: [] }, [1, 2, 3], "w");
    assert.deepEqual([...report.statuses], [0, 1, 0]);
    assert.ok(report.results[1] instanceof RangeError);
    assert.equal(report.results[2], 3);
  });
});
