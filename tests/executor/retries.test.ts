// Retries: each call is retried on its own, counted by a side effect that
// survives worker deaths (a file append), never by in-process state.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FunctionExecutor, WorkerLostError } from "../../mod.ts";
import { countCall, dieOnceThenSucceed, failTimesThenSucceed } from "../helpers/executor_fixtures.ts";
import { errorSummary, makeTempDir, removeDir, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };
const runs = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean).length;

describe("FunctionExecutor retries", () => {
  let dir = "";
  let files = 0;
  const file = () => join(dir, `count-${files++}`);
  let fexec: FunctionExecutor;
  before(async () => {
    dir = await makeTempDir("skypool-retries-");
    fexec = new FunctionExecutor({ transport: "local", workers: 2 });
  });
  after(async () => {
    await fexec[Symbol.asyncDispose]();
    await removeDir(dir);
  });

  test("a call that fails twice then succeeds, with retries: 2, runs exactly 3 times", T, async () => {
    const path = file();
    const f = await fexec.callAsync(failTimesThenSucceed, { path, failures: 2 }, { retries: 2 });
    assert.equal(await withTimeout(f.result(), 60_000, "retried call"), "succeeded on attempt 3");
    assert.equal(runs(path), 3);
    assert.equal(f.stats.attempts, 3);
  });

  test("with too few retries the last error is the result, after exactly retries + 1 runs", T, async () => {
    const path = file();
    const f = await fexec.callAsync(failTimesThenSucceed, { path, failures: 5 }, { retries: 1 });
    await assert.rejects(withTimeout(f.result(), 60_000, "failing call"), /attempt 2 fails/);
    assert.equal(runs(path), 2);
    assert.equal(f.stats.attempts, 2);
  });

  test("without retries a failing call runs once", T, async () => {
    const path = file();
    const f = await fexec.callAsync(failTimesThenSucceed, { path, failures: 1 });
    await assert.rejects(withTimeout(f.result(), 60_000, "failing call"), /attempt 1 fails/);
    assert.equal(runs(path), 1);
  });

  test("each input of a map is retried on its own: its batch-mates are not run again", T, async () => {
    const failing = file(), steady = file();
    const mapped = await fexec.map(failTimesThenSucceed, [{ path: steady, failures: 0 }, { path: failing, failures: 1 }, { path: steady, failures: 0 }], { chunksize: 3, retries: 3 });
    const values = await withTimeout(fexec.getResult(mapped), 60_000, "map with retries") as unknown[];
    assert.equal(values.length, 3);
    assert.equal(runs(failing), 2, "the failing input ran twice");
    assert.equal(runs(steady), 2, "each steady input ran once");
    assert.deepEqual(mapped.map((f) => f.stats.attempts), [1, 2, 1]);
    assert.equal(fexec.jobSummary().retried >= 1, true);
  });

  test("a call whose worker dies is retried and succeeds; without retries it fails with WorkerLostError", T, async () => {
    const path = file();
    const f = await fexec.callAsync(dieOnceThenSucceed, path, { retries: 1 });
    assert.equal(await withTimeout(f.result(), 60_000, "call after a worker death"), 2);
    assert.equal(runs(path), 2);
    assert.equal(f.stats.attempts, 2);
    const lost = await fexec.callAsync(dieOnceThenSucceed, file());
    const err: unknown = await withTimeout(lost.result({ throwExcept: false }), 60_000, "lost call");
    assert.ok(err instanceof WorkerLostError, errorSummary(err));
  });

  test("config.retries of the executor is the default, and jobSummary counts the retried calls", T, async () => {
    const solo = new FunctionExecutor({ transport: "local", workers: 1, config: { retries: 2 } });
    try {
      const paths = [file(), file(), file()];
      const fs = await solo.map(failTimesThenSucceed, paths.map((path, i) => ({ path, failures: i })));
      await withTimeout(solo.getResult(fs), 60_000, "map");
      assert.deepEqual(paths.map(runs), [1, 2, 3]);
      const s = solo.jobSummary();
      assert.equal(s.retried, 2);
      assert.equal(s.attempts, 6);
      assert.equal(s.failed, 0);
    } finally {
      await solo[Symbol.asyncDispose]();
    }
  });

  test("a call counted by a side effect runs once per input at scale", T, async () => {
    const path = file();
    const fs = await fexec.map(countCall, Array.from({ length: 200 }, () => path), { chunksize: 9 });
    await withTimeout(fexec.getResult(fs), 60_000, "map");
    assert.equal(runs(path), 200);
  });
});
