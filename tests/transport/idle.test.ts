import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

declare const Deno: unknown;

test("a program that forgets close() still exits, and worker stdout reaches the parent's", { timeout: 60_000 }, async () => {
  const isDeno = typeof Deno !== "undefined";
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const script = fileURLToPath(new URL(`./fixtures/forget_close${ext}`, import.meta.url));
  const args = isDeno ? ["run", "-A", script] : [script];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const code = await new Promise<number | string>((resolve) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve("timed out: the program did not exit");
    }, 30_000);
    child.on("exit", (c, s) => resolve(c ?? String(s)));
  });
  clearTimeout(timer);
  assert.equal(code, 0, out);
  assert.match(out, /worker-stdout-marker/);
  assert.match(out, /parent-done true/);
});
