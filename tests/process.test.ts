// Process: start/join/isAlive/terminate/exitcode/name/error (catalogue
// PROC-02, PROC-06, PROC-07, PROC-10, SUBPROC-02, SUBPROC-03; SPEC "Process").
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Process, RemoteError, SerializationError, StateError, task } from "../mod.ts";
import {
  errorSummary,
  exitWith,
  fixturesUrl,
  makeTempDir,
  removeDir,
  sleepMs,
  throwCustomErrorMarker,
  throwTypeErrorMarker,
  waitForFile,
  withTimeout,
  writeJson,
} from "./helpers/pool_fixtures.ts";

const T = { timeout: 60_000 };

describe("Process", () => {
  let dir: string;
  const started: Process[] = [];
  /** Tracks every process so `after` can terminate any a failing test left running. */
  const track = (p: Process): Process => {
    started.push(p);
    return p;
  };
  before(async () => {
    dir = await makeTempDir("skypool-process-");
  });
  after(async () => {
    for (const p of started) {
      if (p.isAlive()) await withTimeout(p.terminate(), 10_000, `terminate ${p.name}`).catch(() => {});
    }
    await removeDir(dir);
  });

  test("lifecycle: not alive and no exitcode before start; alive while running; exitcode 0 after (PROC-06)", T, async () => {
    const p = track(new Process({ target: sleepMs, args: [600] }));
    assert.equal(p.isAlive(), false);
    assert.equal(p.exitcode, null);
    await p.start();
    assert.equal(p.isAlive(), true);
    assert.equal(p.exitcode, null);
    await withTimeout(p.join(), 30_000, "join");
    assert.equal(p.isAlive(), false);
    assert.equal(p.exitcode, 0);
    assert.equal(p.error ?? null, null, "no error after a successful target");
  });

  test("the target receives its arguments unchanged (PROC-02)", T, async () => {
    const path = `${dir}/args.json`;
    const args = [1, "str", [1], { a: { b: [null, true] } }, -2.5];
    const p = track(new Process({ target: writeJson, args: [path, ...args] }));
    await p.start();
    await withTimeout(p.join(), 30_000, "join");
    assert.equal(p.exitcode, 0);
    assert.deepEqual(JSON.parse(await waitForFile(path, 1000)), args);
  });

  test("a module reference works as target", T, async () => {
    const path = `${dir}/module-target.json`;
    const p = track(new Process({ target: task(fixturesUrl, "writeJson"), args: [path, "via module"] }));
    await p.start();
    await withTimeout(p.join(), 30_000, "join");
    assert.equal(p.exitcode, 0);
    assert.deepEqual(JSON.parse(await waitForFile(path, 1000)), ["via module"]);
  });

  test("name: the given name is kept; a default name is provided", () => {
    assert.equal(new Process({ target: sleepMs, args: [0], name: "SomeProcess" }).name, "SomeProcess");
    const anon = new Process({ target: sleepMs, args: [0] });
    assert.equal(typeof anon.name, "string");
    assert.ok(anon.name.length > 0);
    assert.notEqual(new Process({ target: sleepMs }).name, anon.name, "default names are distinct");
  });

  test("start() twice is a StateError", T, async () => {
    const p = track(new Process({ target: sleepMs, args: [100] }));
    await p.start();
    await assert.rejects(async () => await p.start(), StateError);
    await withTimeout(p.join(), 30_000, "join");
    await assert.rejects(async () => await p.start(), StateError);
    assert.equal(p.exitcode, 0);
  });

  test("a target that throws a TypeError exits 1 and keeps the error (SUBPROC-02)", T, async () => {
    const p = track(new Process({ target: throwTypeErrorMarker, args: ["bad value"] }));
    await p.start();
    await withTimeout(p.join(), 30_000, "join");
    assert.equal(p.exitcode, 1);
    assert.ok(p.error instanceof TypeError, errorSummary(p.error));
    assert.equal(p.error.message, "bad value");
  });

  test("a target that throws a custom error keeps it as RemoteError", T, async () => {
    const p = track(new Process({ target: throwCustomErrorMarker, args: ["custom"] }));
    await p.start();
    await withTimeout(p.join(), 30_000, "join");
    assert.equal(p.exitcode, 1);
    assert.ok(p.error instanceof RemoteError, errorSummary(p.error));
    assert.equal(p.error.remoteName, "SayWhenCustomError");
    assert.equal(p.error.message, "custom");
  });

  test("process.exit(7) in the target gives exitcode 7; exit(0) gives 0 (SUBPROC-03)", T, async () => {
    const seven = track(new Process({ target: exitWith, args: [7] }));
    const zero = track(new Process({ target: exitWith, args: [0] }));
    await seven.start();
    await zero.start();
    await withTimeout(Promise.all([seven.join(), zero.join()]), 30_000, "join");
    assert.equal(seven.exitcode, 7);
    assert.equal(zero.exitcode, 0);
  });

  test("an async target is awaited before the process exits", T, async () => {
    const path = `${dir}/late.json`;
    const late = async (file: string) => {
      await new Promise((r) => setTimeout(r, 300));
      const fs = await import("node:fs");
      fs.writeFileSync(file, JSON.stringify("late"));
    };
    const p = track(new Process({ target: late, args: [path] }));
    await p.start();
    await withTimeout(p.join(), 30_000, "join");
    assert.equal(p.exitcode, 0);
    assert.equal(JSON.parse(await waitForFile(path, 1000)), "late");
  });

  test("join(0) and join(-1) return at once while the target runs; join(t) waits about t (PROC-07)", T, async () => {
    const p = track(new Process({ target: sleepMs, args: [20_000] }));
    await p.start();
    for (const timeout of [0, -1]) {
      const t0 = Date.now();
      await withTimeout(p.join(timeout), 5000, `join(${timeout})`);
      assert.ok(Date.now() - t0 < 1000, `join(${timeout}) took ${Date.now() - t0} ms`);
      assert.equal(p.isAlive(), true);
      assert.equal(p.exitcode, null);
    }
    const t0 = Date.now();
    await withTimeout(p.join(400), 10_000, "join(400)");
    const waited = Date.now() - t0;
    assert.ok(waited >= 400 - 50, `join(400) returned after ${waited} ms`);
    assert.ok(waited < 400 + 5000);
    assert.equal(p.isAlive(), true);
    await withTimeout(p.terminate(), 10_000, "terminate");
  });

  test("terminate() gives exitcode -15 (SIGTERM), and join() returns (PROC-10)", T, async () => {
    const p = track(new Process({ target: sleepMs, args: [30_000] }));
    await p.start();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await withTimeout(p.terminate(), 10_000, "terminate");
    await withTimeout(p.join(), 10_000, "join");
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(p.isAlive(), false);
    assert.equal(p.exitcode, -15);
  });

  test("two processes run at the same time", T, async () => {
    const stamp = async (file: string, ms: number) => {
      const start = Date.now();
      await new Promise((r) => setTimeout(r, ms));
      const fs = await import("node:fs");
      fs.writeFileSync(file, JSON.stringify([start, Date.now()]));
    };
    const a = track(new Process({ target: stamp, args: [`${dir}/a.json`, 1500] }));
    const b = track(new Process({ target: stamp, args: [`${dir}/b.json`, 1500] }));
    await a.start();
    await b.start();
    await withTimeout(Promise.all([a.join(), b.join()]), 30_000, "join both");
    const [sa, ea] = JSON.parse(await waitForFile(`${dir}/a.json`, 1000));
    const [sb, eb] = JSON.parse(await waitForFile(`${dir}/b.json`, 1000));
    assert.ok(sa < eb && sb < ea, "the two targets did not overlap");
  });

  test("a target using an outer binding is refused with SerializationError naming it", T, async () => {
    const outerLimit = 3;
    await assert.rejects(async () => {
      const p = track(new Process({ target: (x: number) => x < outerLimit, args: [1] }));
      await p.start();
    }, (err: unknown) => {
      assert.ok(err instanceof SerializationError, errorSummary(err));
      assert.match((err as Error).message, /outerLimit/);
      return true;
    });
  });

  test("bad constructor arguments are TypeErrors", () => {
    assert.throws(() => new Process({ target: 5 as unknown as () => void }), TypeError);
    assert.throws(() => new Process({ target: sleepMs, args: "x" as unknown as unknown[] }), TypeError);
    assert.throws(() => new Process({ target: sleepMs, signal: {} as AbortSignal }), { name: "TypeError", message: /^Process signal must be an AbortSignal, got / });
  });

  test("aborting its signal terminates the running process; error is the signal's reason", T, async () => {
    const controller = new AbortController();
    const marker = `${dir}/abort-running`;
    const p = track(new Process({ target: async (path: string) => {
      const fs = await import("node:fs");
      fs.writeFileSync(path, "started");
      await new Promise((r) => setTimeout(r, 30_000));
    }, args: [marker], signal: controller.signal }));
    p.start();
    await waitForFile(marker, 20_000);
    const reason = new Error("stop it");
    controller.abort(reason);
    await withTimeout(p.join(), 10_000, "join after abort");
    assert.equal(p.exitcode, -15);
    assert.equal(p.error, reason);
  });

  test("start() with a signal already aborted throws its reason and runs nothing", T, async () => {
    const path = `${dir}/never-started`;
    const p = new Process({ target: writeJson, args: [path], signal: AbortSignal.abort() });
    assert.throws(() => p.start(), (err: unknown) => err instanceof DOMException && err.name === "AbortError");
    assert.equal(p.isAlive(), false);
    assert.equal(p.exitcode, null);
    // The same target without the signal writes its file: the check below can fail.
    const control = track(new Process({ target: writeJson, args: [`${dir}/control`] }));
    control.start();
    await withTimeout(control.join(), 20_000, "control process");
    await waitForFile(`${dir}/control`, 5_000);
    const fs = await import("node:fs");
    assert.ok(!fs.existsSync(path), "the aborted process wrote its file");
  });
});
