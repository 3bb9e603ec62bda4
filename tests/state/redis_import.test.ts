import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const probe = fileURLToPath(new URL(`../helpers/import_probe${ext}`, import.meta.url));

test("importing the package does not load node-redis; the first connection does", async () => {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, args] = deno ? [deno.execPath(), ["run", "-A", "--no-check", probe]] : [process.execPath, [probe]];
  const out = await new Promise<string>((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000 }, (err, stdout, stderr) => err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout));
  });
  const m = /before (\d+) after (\d+)/.exec(out);
  assert.ok(m, out);
  assert.equal(Number(m[1]), 0, "node-redis modules loaded by the import alone");
  assert.ok(Number(m[2]) > 0, "loading the driver shows up in the module cache");
});
