import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { cpuCount, cwd, envSnapshot, envVar, execPath, filePath, makePrivateDir, makeTempDir, pid, readTextIfPresent, tempDir } from "../../src/runtime/host.ts";

test("envVar reads the environment, unset and empty alike undefined; envSnapshot holds all of it", () => {
  process.env.SKYPOOL_HOST_TEST = "value";
  process.env.SKYPOOL_HOST_EMPTY = "";
  try {
    assert.equal(envVar("SKYPOOL_HOST_TEST"), "value");
    assert.equal(envVar("SKYPOOL_HOST_EMPTY"), undefined);
    assert.equal(envVar("SKYPOOL_HOST_SURELY_UNSET"), undefined);
    const all = envSnapshot();
    assert.equal(all.SKYPOOL_HOST_TEST, "value");
    assert.equal(all.PATH, process.env.PATH);
    all.SKYPOOL_HOST_TEST = "changed";
    assert.equal(envVar("SKYPOOL_HOST_TEST"), "value", "the snapshot is a copy");
  } finally {
    delete process.env.SKYPOOL_HOST_TEST;
    delete process.env.SKYPOOL_HOST_EMPTY;
  }
});

test("pid, execPath, cwd and cpuCount are the process's own", () => {
  assert.equal(pid(), process.pid);
  assert.equal(execPath(), process.execPath);
  assert.equal(cwd(), process.cwd());
  assert.ok(Number.isInteger(cpuCount()) && cpuCount() >= 1);
  assert.equal(cpuCount(), availableParallelism());
});

test("tempDir is where os.tmpdir() points, TMPDIR included", () => {
  const saved = process.env.TMPDIR;
  try {
    assert.equal(tempDir(), tmpdir());
    process.env.TMPDIR = "/var/tmp/";
    assert.equal(tempDir(), "/var/tmp");
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});

test("makeTempDir and makePrivateDir make folders only their user can enter; makePrivateDir refuses one that exists", () => {
  const made = makeTempDir(tmpdir(), "skypool-host-test-");
  try {
    assert.ok(made.startsWith(`${tmpdir()}/skypool-host-test-`), made);
    assert.equal(statSync(made).mode & 0o777, 0o700);
    const inner = `${made}/inner`;
    makePrivateDir(inner);
    assert.equal(statSync(inner).mode & 0o777, 0o700);
    assert.throws(() => makePrivateDir(inner));
  } finally {
    rmSync(made, { recursive: true, force: true });
  }
});

test("readTextIfPresent: a file's text, undefined where there is none, and an error for a folder", () => {
  const dir = mkdtempSync(`${tmpdir()}/skypool-host-read-`);
  try {
    writeFileSync(`${dir}/a.json`, "{\"x\":1}");
    mkdirSync(`${dir}/folder`);
    assert.equal(readTextIfPresent(`${dir}/a.json`), "{\"x\":1}");
    assert.equal(readTextIfPresent(`${dir}/missing.json`), undefined);
    assert.throws(() => readTextIfPresent(`${dir}/folder`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("filePath turns a file: URL into its path, escapes decoded; other URLs are refused", () => {
  assert.equal(filePath(new URL("file:///tmp/a%20b/c.ts")), "/tmp/a b/c.ts");
  assert.equal(filePath(pathToFileURL("/tmp/ü #1.ts")), "/tmp/ü #1.ts");
  assert.throws(() => filePath(new URL("https://example.com/a.ts")), TypeError);
  assert.throws(() => filePath(new URL("file://server/share/a.ts")), TypeError);
  assert.throws(() => filePath(new URL("file:///tmp/a%2Fb")), TypeError);
});
