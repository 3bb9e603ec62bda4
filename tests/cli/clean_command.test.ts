import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { startRedisServer, type TestRedisServer } from "../helpers/redis_server.ts";
import { runCli } from "./run_cli.ts";

/** Two sessions under `skypool`, one under another prefix, and names that only look alike. */
const SESSION_S1 = ["skypool:s1:lock:a", "skypool:s1:queue:b", "skypool:s1:queue:b:items", "skypool:op:s1:x.1"];
const SESSION_S2 = ["skypool:s2:lock:c", "skypool:op:s2:y.1"];
const OTHERS = ["other:s1:lock:a", "skypoolx:s1:lock:a", "skypool:s1x:lock:z", "skypool:s1*:lock:glob"];
const UNDER_SKYPOOL = [...SESSION_S1, ...SESSION_S2, ...OTHERS].filter((k) => k.startsWith("skypool:")).length;

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
  }
  return out.sort();
}

describe("skypool clean", () => {
  let server: TestRedisServer;
  let scratch: string;
  before(async () => {
    server = await startRedisServer();
    scratch = await mkdtemp(join(tmpdir(), "skypool-clean-test-"));
  });
  after(async () => {
    await server?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await server.command(["FLUSHALL"]);
    for (const key of [...SESSION_S1, ...SESSION_S2, ...OTHERS]) await server.command(["SET", key, "v", "EX", "600"]);
  });

  const env = () => ({ SKYPOOL_REDIS_URL: server.url });

  it("removes exactly the session's keys (and its op records), leaving other sessions and prefixes", async () => {
    const run = await runCli(["clean", "--session", "s1"], env());
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual((await server.keys()).sort(), [...SESSION_S2, ...OTHERS].sort());
    assert.match(run.stdout, /removed 4 keys of session s1 under prefix "skypool" on redis:\/\/127\.0\.0\.1:\d+ \(queue 2, lock 1, op 1\)/);
  });

  it("takes the session from SKYPOOL_SESSION, and a session name is matched literally, not as a pattern", async () => {
    const run = await runCli(["clean"], { ...env(), SKYPOOL_SESSION: "s1*" });
    assert.equal(run.status, 0, run.stderr);
    const left = await server.keys();
    assert.ok(!left.includes("skypool:s1*:lock:glob"));
    assert.deepEqual(left.sort(), [...SESSION_S1, ...SESSION_S2, ...OTHERS].filter((k) => k !== "skypool:s1*:lock:glob").sort());
  });

  it("--all removes every session under the prefix and nothing under others", async () => {
    const run = await runCli(["clean", "--all"], env());
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual((await server.keys()).sort(), ["other:s1:lock:a", "skypoolx:s1:lock:a"]);
    assert.match(run.stdout, new RegExp(`removed ${UNDER_SKYPOOL} keys under prefix "skypool"`));
    assert.match(run.stdout, /^ {2}s1: 4 \(/m);
    assert.match(run.stdout, /^ {2}s2: 2 \(lock 1, op 1\)$/m);
    const other = await runCli(["clean", "--all", "--prefix", "other"], env());
    assert.equal(other.status, 0, other.stderr);
    assert.deepEqual(await server.keys(), ["skypoolx:s1:lock:a"]);
  });

  it("--dry-run lists what would go and removes nothing", async () => {
    const run = await runCli(["clean", "--all", "--dry-run"], env());
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`would remove ${UNDER_SKYPOOL} keys under prefix "skypool"`));
    assert.equal((await server.keys()).length, SESSION_S1.length + SESSION_S2.length + OTHERS.length);
  });

  it("removes the session's storage objects under {prefix}/{session}/", async () => {
    const root = await mkdtemp(join(scratch, "store-"));
    for (const key of ["skypool/s1/a.bin", "skypool/s1/deep/b.bin", "skypool/s2/c.bin", "other/s1/d.bin", "skypool/s1x/e.bin"]) {
      await mkdir(dirname(join(root, key)), { recursive: true });
      await writeFile(join(root, key), "x");
    }
    const run = await runCli(["clean", "--session", "s1", "--storage", pathToFileURL(root).href], env());
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(await files(root), ["other/s1/d.bin", "skypool/s1x/e.bin", "skypool/s2/c.bin"]);
    assert.match(run.stdout, /removed 2 storage objects under file:.*\/skypool\/s1\//);
    assert.match(run.stdout, /removed 4 keys of session s1/);
  });

  it("says clearly when no Redis (and no storage) is configured, in one line", async () => {
    const run = await runCli(["clean", "--all"]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^skypool: nothing to clean: no Redis configured \(set SKYPOOL_REDIS_URL or pass --redis URL\)[^\n]*\n$/);
    const noSession = await runCli(["clean"], env());
    assert.equal(noSession.status, 1);
    assert.match(noSession.stderr, /^skypool: no session to clean: pass --session ID[^\n]*\n$/);
    assert.equal((await server.keys()).length, SESSION_S1.length + SESSION_S2.length + OTHERS.length);
  });
});
