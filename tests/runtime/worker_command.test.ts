import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isDeno, workerCommand, workerEntryUrl } from "../../src/runtime/worker_command.ts";

test("the worker entry exists next to the running sources, with their extension", () => {
  const url = workerEntryUrl();
  const ownExt = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  assert.ok(url.pathname.endsWith(`/worker/subprocess_main${ownExt}`), url.href);
  assert.ok(existsSync(fileURLToPath(url)), url.href);
});

test("the command is this runtime's own executable", () => {
  const { file, args } = workerCommand(["/tmp/x.sock", "tok"]);
  assert.equal(file, process.execPath);
  assert.deepEqual(args.slice(-2), ["/tmp/x.sock", "tok"]);
  if (isDeno) assert.equal(args[0], "run");
  else assert.ok(args[0].endsWith("subprocess_main.js"));
});
