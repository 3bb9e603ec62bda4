// `skypool worker`: its options, a clear error without a Redis, and a
// drain on SIGTERM, as a child process (the way it runs).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { workerCommand } from "../../src/cli/worker_command.ts";
import { runChild } from "../helpers/child.ts";
import { startRedisServer, type TestRedisServer } from "../helpers/redis_server.ts";
import { withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 60_000 };
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

describe("skypool worker", () => {
  let server: TestRedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(() => server.stop());

  test("--help names every option", () => {
    const help = workerCommand().helpInformation();
    for (const flag of ["--redis <url>", "--queue <name>", "--concurrency <n>", "--lease-ms <ms>", "--max-deliveries <n>"]) assert.ok(help.includes(flag), flag);
  });

  test("a bad --concurrency is refused with one line", T, async () => {
    const child = runChild("cli", ["--redis", server.url, "--concurrency", "zero"], {}, "fleet_worker_child");
    assert.equal(await withTimeout(child.exited, 30_000, "exit"), 1);
    assert.match(child.stderr(), /--concurrency.*whole number/);
  });

  test("without --redis or SKYPOOL_REDIS_URL it exits 1 saying how to name the Redis", T, async () => {
    const child = runChild("cli", [], { SKYPOOL_REDIS_URL: "" }, "fleet_worker_child");
    assert.equal(await withTimeout(child.exited, 30_000, "exit"), 1);
    assert.match(child.stderr(), /--redis URL or set SKYPOOL_REDIS_URL/);
  });

  test("serves until SIGTERM, then drains and exits 0", T, async () => {
    const child = runChild("cli", ["--redis", server.url, "--queue", "cli-test", "--concurrency", "2"], { SKYPOOL_AUTHKEY: "cli-test-key-0123456789" }, "fleet_worker_child");
    try {
      const deadline = Date.now() + 30_000;
      while (!/serving queue "cli-test"/.test(child.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(child.stderr(), /serving queue "cli-test" on redis:\/\/127\.0\.0\.1:\d+, 2 at once/);
      const groups = await server.command<unknown[]>(["XINFO", "GROUPS", "skypool:{fleet:cli-test}"]);
      assert.equal(groups.length, 1, "the worker made the consumer group");
      child.proc.kill("SIGTERM");
      const code = await withTimeout(child.exited, 30_000, "exit after SIGTERM");
      // Deno's node:child_process reports the signal it sent even when the child exited 0.
      assert.ok(code === 0 || (isDeno && code === "SIGTERM"), `exit ${code}`);
      assert.match(child.stderr(), /drained/);
    } finally {
      await child.kill();
    }
  });
});
