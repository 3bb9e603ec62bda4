// The npm package as published (npm/package, built by `npm run build`) is
// bundled (npm/build.mjs: bundlePackage): these tests run it on Node, the
// runtime it is for, where the rest of the suite runs the unbundled build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parse } from "acorn";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { repoRoot } from "./helpers/repo_root.ts";

const root = repoRoot();
const entry = fileURLToPath(new URL("npm/package/mod.js", root));
const node = (globalThis as { Deno?: unknown }).Deno ? "node" : process.execPath;

function packageMissing(): string {
  return `${entry} is missing: build the package with \`npm run build\` (not with SKYPOOL_BUILD_DIR, which skips it)`;
}

test("the package's entry is bundled: it imports none of the package's modules one by one", () => {
  assert.ok(existsSync(entry), packageMissing());
  // Parsed, not matched: the bundle is minified, imports share a line.
  const program = parse(readFileSync(entry, "utf8"), { ecmaVersion: "latest", sourceType: "module" });
  const imports = program.body
    .flatMap((node) => "source" in node && node.source ? [String(node.source.value)] : [])
    .filter((s) => s.startsWith("."));
  assert.ok(imports.length > 0, "mod.js imports no chunk");
  assert.deepEqual(imports.filter((s) => !/^\.\/chunk-\w+\.js$/.test(s)), []);
});

test("the bundled package runs a pool, state handles in workers, the executor's call runner, a Lambda runtime built from it and errors across processes", async () => {
  assert.ok(existsSync(entry), packageMissing());
  const probe = fileURLToPath(new URL("tests/helpers/package_probe.mjs", root));
  const out = await new Promise<string>((resolve, reject) => {
    execFile(node, [probe, entry], { timeout: 120_000 }, (err, stdout, stderr) => err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout));
  });
  assert.deepEqual(JSON.parse(out), {
    map: "3,6,9",
    closureRefused: true,
    workerError: "RangeError: from the worker",
    counter: 4,
    stateErrorFromWorker: true,
    executor: "2,3",
    lambda: "2,4,6",
    workerEntry: "runFleetWorker",
  });
});
