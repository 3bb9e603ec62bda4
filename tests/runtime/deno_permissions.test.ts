// Issue 7, defect 9: Deno workers run with their parent's permissions, not `-A`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { isDeno } from "../../src/runtime/worker_command.ts";

const skip = isDeno ? false : "Deno only: Node has no permissions to pass on";

test("a parent with every permission passes each on by name, never -A, and workers never prompt", { skip }, async () => {
  const { workerPermissionFlags } = await import("../../src/runtime/deno_permissions.ts");
  const flags = workerPermissionFlags({});
  for (const name of ["read", "write", "net", "env", "sys", "run", "ffi", "import"]) {
    assert.ok(flags.includes(`--allow-${name}`), `${name} in ${flags}`);
  }
  assert.ok(flags.includes("--no-prompt"));
  assert.ok(!flags.includes("-A") && !flags.includes("--allow-all"));
});

test("a parent allowed to read only its project gets workers that cannot read outside it either", { skip, timeout: 120_000 }, () => {
  const fixture = fileURLToPath(new URL("./fixtures/limited_parent.ts", import.meta.url));
  const project = fileURLToPath(new URL("../..", import.meta.url));
  const outside = "/etc/hosts";
  const r = spawnSync(process.execPath, [
    "run", "--no-check", "--allow-env", "--allow-net", "--allow-run", "--allow-sys",
    `--allow-read=${project},${tmpdir()}`, `--allow-write=${tmpdir()}`,
    fixture, fixture, outside,
  ], { cwd: project, encoding: "utf8", timeout: 90_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.deepEqual(lines, [
    "parent allowed // Run under Deno with limited permissions by tests/runtime/deno_permissions.test.ts:",
    "worker allowed // Run under Deno with limited permissions by tests/runtime/deno_permissions.test.ts:",
    "parent forbidden NotCapable",
    "worker forbidden NotCapable",
  ]);
});
