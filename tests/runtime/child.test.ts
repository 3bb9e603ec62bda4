import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { type ChildExit, spawnChild } from "../../src/runtime/child.ts";
import { spawn as nodeSpawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { isRunning } from "../helpers/process_table.ts";

const PATH = "/usr/bin:/bin";

function run(file: string, args: string[], env: Record<string, string> = { PATH }): { exit: Promise<ChildExit>; child: ReturnType<typeof spawnChild> } {
  let resolve!: (e: ChildExit) => void;
  const exit = new Promise<ChildExit>((r) => resolve = r);
  const child = spawnChild(file, args, env, resolve);
  return { exit, child };
}

test("a child's exit code comes back, once it has exited", async () => {
  const { exit, child } = run("/bin/sh", ["-c", "exit 3"]);
  assert.ok(Number.isInteger(child.pid) && child.pid! > 0);
  assert.deepEqual(await exit, { code: 3, signal: null });
});

test("a child gets exactly the environment given, nothing of ours", async () => {
  process.env.SKYPOOL_CHILD_TEST_OURS = "1";
  try {
    const script = 'test "$GIVEN" = "a b" && test -z "$SKYPOOL_CHILD_TEST_OURS" && test -z "$HOME"';
    assert.deepEqual(await run("/bin/sh", ["-c", script], { PATH, GIVEN: "a b" }).exit, { code: 0, signal: null });
  } finally {
    delete process.env.SKYPOOL_CHILD_TEST_OURS;
  }
});

test("a child killed by a signal reports the signal and no code, as Node does", async () => {
  const { exit, child } = run("/bin/sleep", ["30"]);
  child.kill("SIGKILL");
  assert.deepEqual(await exit, { code: null, signal: "SIGKILL" });
  child.kill("SIGTERM"); // once exited: ignored, no throw
});

test("a program that cannot be started reports an error, after spawnChild returned, and once", async () => {
  let calls = 0;
  let returned = false;
  const exit = await new Promise<ChildExit>((resolve) => {
    const child = spawnChild("/nonexistent/skypool-no-such-program", [], { PATH }, (e) => {
      calls++;
      assert.ok(returned, "onExit ran before spawnChild returned");
      resolve(e);
    });
    returned = true;
    child.kill("SIGTERM");
    child.ref();
    child.unref();
  });
  assert.ok(exit.error instanceof Error, String(exit.error));
  assert.equal(exit.code, null);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls, 1);
});

/**
 * Runs the probe and resolves, when the probe's process has exited (its
 * output pipe may stay open: the sleep inherits it), with the sleep's pid.
 */
function probeExit(mode: "ref" | "unref"): Promise<number> {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const probe = fileURLToPath(new URL(`../helpers/child_ref_probe${ext}`, import.meta.url));
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, args] = deno ? [deno.execPath(), ["run", "-A", "--no-check", probe]] : [process.execPath, [probe]];
  const p = nodeSpawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, CHILD_REF_MODE: mode } });
  let out = "";
  p.stdout!.on("data", (c) => out += c);
  return new Promise((resolve, reject) => {
    p.on("exit", (code) => {
      const pid = Number(out.trim().split("\n")[0]);
      p.stdout!.destroy();
      code === 0 && pid > 0 ? resolve(pid) : reject(new Error(`probe exited with ${code}, printed ${JSON.stringify(out)}`));
    });
  });
}

test("a ref'd child keeps the program alive until it exits; an unref'd one does not", async () => {
  const ref = await probeExit("ref");
  assert.equal(isRunning(ref), false, "the program ended before its ref'd child did");
  const unref = await probeExit("unref");
  try {
    assert.equal(isRunning(unref), true, "the program waited for its unref'd child");
  } finally {
    if (isRunning(unref)) process.kill(unref, "SIGKILL");
  }
});
