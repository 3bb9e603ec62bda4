// wait and getResult: returnWhen conditions, timeouts that leave every
// future usable, throwExcept. A gated call (it waits for a file the test
// creates) cannot finish before the test lets it, so ordering is proven
// without timing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ALL_COMPLETED, ALWAYS, ANY_COMPLETED, FunctionExecutor, TimeoutError } from "../../mod.ts";
import { doubleButNotThree, waitForGate } from "../helpers/executor_fixtures.ts";
import { errorSummary, makeTempDir, removeDir, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };

describe("FunctionExecutor.wait and getResult", () => {
  let dir = "";
  let fexec: FunctionExecutor;
  let gates = 0;
  const newGate = () => join(dir, `gate-${gates++}`);
  const open = (gate: string) => writeFileSync(gate, "");
  before(async () => {
    dir = await makeTempDir("skypool-wait-");
    fexec = new FunctionExecutor({ transport: "local", workers: 2 });
  });
  after(async () => {
    await fexec[Symbol.asyncDispose]();
    await removeDir(dir);
  });

  test("ANY_COMPLETED returns as soon as one call is done, while another cannot finish yet", T, async () => {
    const gate = newGate();
    const [fast] = await fexec.map((x: number) => x, [1]);
    const [gated] = await fexec.map(waitForGate, [gate]);
    const { done, notDone } = await withTimeout(fexec.wait([gated, fast], { returnWhen: ANY_COMPLETED }), 60_000, "wait ANY");
    assert.deepEqual(done, [fast]);
    assert.deepEqual(notDone, [gated]);
    open(gate);
    assert.equal(await withTimeout(gated.result(), 60_000, "gated"), "opened");
  });

  test("ALL_COMPLETED (the default) returns when every call is done", T, async () => {
    const gate = newGate();
    const fs = await fexec.map(waitForGate, [gate, gate]);
    let returned = false;
    const waiting = fexec.wait(fs).then((r) => {
      returned = true;
      return r;
    });
    const early = await fexec.wait(fs, { returnWhen: ALWAYS });
    assert.equal(early.notDone.length, 2, "ALWAYS returns at once, with nothing done yet");
    assert.equal(returned, false);
    open(gate);
    const { done, notDone } = await withTimeout(waiting, 60_000, "wait ALL");
    assert.deepEqual(done, fs);
    assert.deepEqual(notDone, []);
    assert.equal((await fexec.wait(fs, { returnWhen: ALL_COMPLETED })).done.length, 2);
  });

  test("a wait that times out returns what is done, and a later getResult still gives every value", T, async () => {
    const gate = newGate();
    const fs = [...await fexec.map((x: number) => x * 10, [1]), ...await fexec.map(waitForGate, [gate])];
    const { done, notDone } = await withTimeout(fexec.wait(fs, { timeout: 300 }), 60_000, "wait with timeout");
    assert.deepEqual(notDone, [fs[1]]);
    assert.ok(done.length <= 1);
    assert.equal(fs[1].status === "new" || fs[1].status === "running", true, `status ${fs[1].status}`);
    open(gate);
    assert.deepEqual(await withTimeout(fexec.getResult(fs), 60_000, "getResult after the timeout"), [10, "opened"]);
  });

  test("a getResult that times out rejects with TimeoutError; the results stay retrievable", T, async () => {
    const gate = newGate();
    const [f] = await fexec.map(waitForGate, [gate]);
    await assert.rejects(fexec.getResult(f, { timeout: 200 }), TimeoutError);
    await assert.rejects(f.result({ timeout: 100 }), TimeoutError);
    assert.equal(f.done(), false);
    open(gate);
    assert.equal(await withTimeout(fexec.getResult(f), 60_000, "getResult"), "opened", "one future gives its value, not a list");
    assert.equal(await f.result({ timeout: 0 }), "opened");
  });

  test("throwExcept: wait and getResult reject with a failed call's error; with false its slot holds it", T, async () => {
    const fs = await fexec.map(doubleButNotThree, [2, 3]);
    await assert.rejects(withTimeout(fexec.getResult(fs), 60_000, "getResult"), RangeError);
    await assert.rejects(fexec.wait(fs), RangeError);
    const { done } = await fexec.wait(fs, { throwExcept: false });
    assert.equal(done.length, 2);
    const values = await fexec.getResult(fs, { throwExcept: false }) as unknown[];
    assert.equal(values[0], 4);
    assert.ok(values[1] instanceof RangeError, errorSummary(values[1]));
  });

  test("without fs, wait and getResult cover every future of the executor", T, async () => {
    const solo = new FunctionExecutor({ transport: "inline" });
    try {
      await solo.map((x: number) => x + 1, [1, 2]);
      await solo.callAsync((x: number) => -x, 5);
      assert.equal((await solo.wait()).done.length, 3);
      assert.deepEqual(await solo.getResult(), [2, 3, -5]);
    } finally {
      await solo[Symbol.asyncDispose]();
    }
  });

  test("bad arguments are TypeError/RangeError naming them", T, async () => {
    await assert.rejects(fexec.wait(undefined, { returnWhen: "SOMETIMES" as never }), /returnWhen must be ANY_COMPLETED, ALL_COMPLETED or ALWAYS, got "SOMETIMES"/);
    await assert.rejects(fexec.wait([1 as never]), { name: "TypeError", message: /fs\[0\] is not a ResponseFuture/ });
    await assert.rejects(fexec.getResult(undefined, { timeout: "soon" as never }), TypeError);
    await assert.rejects(fexec.getResult(undefined, { throwExcept: "no" as never }), /throwExcept must be a boolean/);
    await assert.rejects(fexec.wait(undefined, { later: true } as never), /unknown option "later"/);
  });
});
