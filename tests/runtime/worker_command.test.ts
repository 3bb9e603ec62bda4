import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isDeno, workerCommand, workerEntryUrl } from "../../src/runtime/worker_command.ts";

test("the worker entry exists next to the running sources: the source entry, or the npm build's bundle", () => {
  const url = workerEntryUrl();
  const built = import.meta.url.endsWith(".js");
  assert.ok(url.pathname.endsWith(built ? "/worker/subprocess_bundle.js" : "/worker/subprocess_main.ts"), url.href);
  assert.ok(existsSync(fileURLToPath(url)), url.href);
});

test("the npm build's worker bundle imports the modules a task shares with its worker instead of holding copies", {
  skip: import.meta.url.endsWith(".ts") ? "the sources have no bundle" : false,
}, () => {
  const text = readFileSync(fileURLToPath(workerEntryUrl()), "utf8");
  assert.match(text, /from\s*"\.\.\/errors\.js"/);
  assert.match(text, /from\s*"\.\.\/task\/codec_handles\.js"/);
  // One bundle, not a re-export of the entry: the worker loop and the codec are inside.
  assert.match(text, /function startWorker\(/);
  assert.match(text, /function writeMessage\(/);
  assert.doesNotMatch(text, /class SerializationError/);
});

test("the command is this runtime's own executable", () => {
  const { file, args } = workerCommand(["/tmp/x.sock", "tok"]);
  assert.equal(file, process.execPath);
  assert.deepEqual(args.slice(-2), ["/tmp/x.sock", "tok"]);
  if (isDeno) assert.equal(args[0], "run");
  else assert.ok(args[0].endsWith("subprocess_bundle.js"));
});
