// FunctionExecutor: callAsync, map and their options, stats, clean,
// jobSummary and disposal, on the inline and local transports.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FunctionExecutor, RemoteError, ResponseFuture, StateError, TimeoutError } from "../../mod.ts";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { doubleButNotThree, readEnv, sleepThenMark } from "../helpers/executor_fixtures.ts";
import { errorSummary, sleepMs, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };

for (const transport of ["inline", "local"] as const) {
  describe(`FunctionExecutor on ${transport}`, () => {
    const fexec = new FunctionExecutor({ transport, workers: 2 });
    after(() => fexec[Symbol.asyncDispose]());

    test("callAsync calls fn(data) and its future gives the value", T, async () => {
      const f = await fexec.callAsync((o: { a: number; b: number }) => o.a + o.b, { a: 2, b: 3 });
      assert.ok(f instanceof ResponseFuture);
      assert.equal(await withTimeout(f.result(), 60_000, "callAsync"), 5);
      assert.equal(f.status, "success");
      assert.equal(f.done(), true);
      assert.equal(f.error, undefined);
    });

    test("map makes one future per item, in input order, calling fn(item, ...extraArgs)", T, async () => {
      const fs = await fexec.map((x: number, k: number, c: string) => `${c}${x * k}`, [1, 2, 3, 4, 5], { extraArgs: [10, "="] });
      assert.equal(fs.length, 5);
      assert.deepEqual(await withTimeout(fexec.getResult(fs), 60_000, "map"), ["=10", "=20", "=30", "=40", "=50"]);
    });

    test("a failing call fails only its own future, even within one batch", T, async () => {
      const fs = await fexec.map(doubleButNotThree, [1, 2, 3, 4], { chunksize: 4 });
      const values = await withTimeout(fexec.getResult(fs, { throwExcept: false }), 60_000, "map") as unknown[];
      assert.deepEqual(values.filter((_, i) => i !== 2), [2, 4, 8]);
      assert.ok(values[2] instanceof RangeError, errorSummary(values[2]));
      assert.equal((values[2] as Error).message, "three is refused");
      assert.equal(fs[2].status, "error");
      assert.ok(fs[2].error instanceof RangeError);
      await assert.rejects(fs[2].result(), RangeError);
      assert.equal(await fs[2].result({ throwExcept: false }), fs[2].error);
    });

    test("chunksize sets how many calls travel per batch", T, async () => {
      // Each call sleeps 3 ms, so two batches on one worker never start in the same millisecond.
      const fs = await fexec.map(sleepMs, Array.from({ length: 10 }, () => 3), { chunksize: 3 });
      await withTimeout(fexec.getResult(fs), 60_000, "map");
      // A batch is known by the worker that ran it and when it started there.
      const batchOf = fs.map((f) => `${f.stats.workerId}@${f.stats.workerStartTime}`);
      assert.equal(new Set(batchOf).size, 4, "10 calls in batches of 3 are 4 batches");
      for (const [first, last] of [[0, 2], [3, 5], [6, 8]]) {
        assert.equal(batchOf[first], batchOf[last], `calls ${first}..${last} share a batch`);
      }
      assert.notEqual(batchOf[2], batchOf[3]);
    });

    test("each future carries its stats, in causal order", T, async () => {
      const fs = await fexec.map(sleepMs, [5, 5, 5], { chunksize: 1 });
      await withTimeout(fexec.getResult(fs), 60_000, "map");
      for (const f of fs) {
        const s = f.stats;
        assert.equal(s.attempts, 1);
        assert.equal(typeof s.workerId, "string");
        assert.ok(s.hostSubmitTime <= s.workerStartTime!, JSON.stringify(s));
        assert.ok(s.workerStartTime! <= s.functionStartTime!, JSON.stringify(s));
        assert.ok(s.functionEndTime! - s.functionStartTime! >= 4, `the function slept 5 ms: ${JSON.stringify(s)}`);
        assert.ok(s.functionEndTime! <= s.workerEndTime!, JSON.stringify(s));
        assert.ok(s.workerEndTime! <= s.hostResultTime!, JSON.stringify(s));
        if (transport === "local") assert.ok(s.resultSize! > 0, "a shipped result has an encoded size");
      }
    });

    test("extraEnv (over the executor's envVars) is set in the worker while the call runs, and only then", T, async () => {
      const name = "SKYPOOL_EXECUTOR_TEST_VAR";
      const solo = new FunctionExecutor({ transport, workers: 1, config: { envVars: { SKYPOOL_EXECUTOR_TEST_BASE: "from the executor" } } });
      try {
        const base = await solo.callAsync(readEnv, "SKYPOOL_EXECUTOR_TEST_BASE");
        assert.equal(await withTimeout(base.result(), 60_000, "base env"), "from the executor", "config.envVars reach every call");
        const over = await solo.callAsync(readEnv, "SKYPOOL_EXECUTOR_TEST_BASE", { extraEnv: { SKYPOOL_EXECUTOR_TEST_BASE: "from the call" } });
        assert.equal(await withTimeout(over.result(), 60_000, "overridden env"), "from the call", "extraEnv wins over config.envVars");
        const withEnv = await solo.callAsync(readEnv, name, { extraEnv: { [name]: "set for this call" } });
        assert.equal(await withTimeout(withEnv.result(), 60_000, "with env"), "set for this call");
        const without = await solo.callAsync(readEnv, name);
        assert.equal(await withTimeout(without.result(), 60_000, "without env"), undefined);
      } finally {
        await solo[Symbol.asyncDispose]();
      }
    });

    test("a call still running past its timeout fails with TimeoutError; the others do not", T, async () => {
      const fs = await fexec.map(sleepMs, [1, 3000], { chunksize: 1, timeout: 1000 });
      const [fast, slow] = await withTimeout(fexec.getResult(fs, { throwExcept: false }), 60_000, "map") as unknown[];
      assert.equal(fast, 1);
      assert.ok(slow instanceof TimeoutError, errorSummary(slow));
    });

    if (transport === "local") {
      test("a call past its timeout is stopped on its worker, not only failed", T, async () => {
        const dir = mkdtempSync(join(tmpdir(), "skypool-timeout-"));
        try {
          const path = join(dir, "marker");
          const f = await fexec.callAsync(sleepThenMark, { ms: 2000, path }, { timeout: 300 });
          const error: unknown = await withTimeout(f.result({ throwExcept: false }), 60_000, "callAsync");
          assert.ok(error instanceof TimeoutError, errorSummary(error));
          // Past the time the call would have written its marker had it kept running.
          await new Promise((r) => setTimeout(r, 2500));
          assert.equal(existsSync(path), false, "the timed-out call kept running and wrote its marker");
          // The executor's workers still serve calls.
          assert.equal(await withTimeout((await fexec.callAsync((x: number) => x + 1, 1)).result(), 60_000, "after"), 2);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    test("a map over no items gives no futures", T, async () => {
      assert.deepEqual(await fexec.map((x: number) => x, []), []);
    });

    test("jobSummary counts calls, failures and wall time; clean forgets finished futures", T, async () => {
      const solo = new FunctionExecutor({ transport, workers: 1 });
      try {
        const fs = await solo.map(doubleButNotThree, [1, 3]);
        const slow = await solo.callAsync(sleepMs, 20);
        await withTimeout(solo.wait([...fs, slow], { throwExcept: false }), 60_000, "wait");
        const s = solo.jobSummary();
        assert.equal(s.calls, 3);
        assert.equal(s.done, 3);
        assert.equal(s.failed, 1);
        assert.equal(s.succeeded, 2);
        assert.equal(s.retried, 0);
        assert.ok(s.wallMs >= 19, `a 20 ms call was part of it: ${s.wallMs} ms`);
        await solo.clean();
        assert.equal(solo.jobSummary().calls, 0);
        assert.equal(await fs[0].result(), 2, "a cleaned future keeps its value");
      } finally {
        await solo[Symbol.asyncDispose]();
      }
    });
  });
}

describe("FunctionExecutor disposal", () => {
  test("await using stops it: submitting afterwards is a StateError", T, async () => {
    let kept: FunctionExecutor;
    {
      await using fexec = new FunctionExecutor({ transport: "local", workers: 1 });
      kept = fexec;
      assert.equal(await withTimeout((await fexec.callAsync((x: number) => x, 1)).result(), 60_000, "call"), 1);
    }
    await assert.rejects(kept.callAsync((x: number) => x, 1), StateError);
  });

  test("a remote error keeps its name and message", T, async () => {
    await using fexec = new FunctionExecutor({ transport: "local", workers: 1 });
    const f = await fexec.callAsync(() => {
      class Custom extends Error {
        override name = "CustomFailure";
      }
      throw new Custom("custom");
    }, null);
    const err: unknown = await withTimeout(f.result({ throwExcept: false }), 60_000, "call");
    assert.ok(err instanceof RemoteError, errorSummary(err));
    assert.equal(err.remoteName, "CustomFailure");
  });
});
