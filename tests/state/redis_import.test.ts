import { test } from "node:test";
import assert from "node:assert/strict";
import { runProbe } from "../helpers/run_probe.ts";

test("importing the package does not load node-redis; the first connection does", async () => {
  const out = (await runProbe("import_probe")).stdout;
  const m = /before (\d+) after (\d+)/.exec(out);
  assert.ok(m, out);
  assert.equal(Number(m[1]), 0, "node-redis modules loaded by the import alone");
  assert.ok(Number(m[2]) > 0, "loading the driver shows up in the module cache");
});
