import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import process from "node:process";
import { SkypoolError } from "../../mod.ts";
import { EmbeddedRedisServer, findExecutable, INSTALL_HINT } from "../../src/state/embedded_server.ts";
import { connectionFor } from "../../src/state/redis.ts";
import { runChild } from "../helpers/child.ts";
import { sleep } from "../helpers/state_setup.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

/**
 * Whether `dir` is gone within `ms`: the server's watchdog removes it just
 * after the server has exited, so it may outlive the pid by a moment.
 */
async function removed(dir: string, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!existsSync(dir)) return true;
    await sleep(50);
  }
  return !existsSync(dir);
}

/** The environment of a program with no Redis configured. */
function noRedisEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { SKYPOOL_REDIS_URL: "", SKYPOOL_NO_EMBEDDED: "", SKYPOOL_SESSION: "", ...extra };
}

describe("embedded redis-server", () => {
  test("starts on a unix socket only, answers, and stops cleanly", async () => {
    const server = EmbeddedRedisServer.start();
    try {
      assert.ok(server.url.startsWith("unix://"));
      await server.ready();
      const conn = connectionFor(server.url);
      assert.equal(await conn.command(["PING"]), "PONG");
      const [, port] = await conn.command<string[]>(["CONFIG", "GET", "port"]);
      assert.equal(port, "0", "no TCP port");
      const [, save] = await conn.command<string[]>(["CONFIG", "GET", "save"]);
      assert.equal(save, "");
      await conn.close();
    } finally {
      await server.stop();
    }
    assert.equal(server.running, false);
    assert.equal(existsSync(server.dir), false);
  });

  test("a missing redis-server is an error that says what to do", () => {
    assert.equal(findExecutable("no-such-redis-server-here"), undefined);
    assert.throws(
      () => EmbeddedRedisServer.start({ executable: "no-such-redis-server-here" }),
      (e: Error) => e instanceof SkypoolError && e.message.includes("apt-get install redis-server") && e.message.includes("SKYPOOL_REDIS_URL"),
    );
    assert.ok(INSTALL_HINT.includes("brew install redis"));
  });

  test("with no Redis configured, the first primitive starts one; it stops when the program ends by itself", async () => {
    const child = runChild("embedded", { mode: "natural" }, noRedisEnv());
    const line = await child.waitForLine(/^server /, 30_000);
    const [, pid, dir, url] = line.split(" ");
    assert.ok(url.startsWith("unix://"), url);
    assert.equal(await child.exited, 0, child.stderr());
    assert.ok(await gone(Number(pid)), "the embedded server outlived the program");
    assert.ok(await removed(dir), `${dir} outlived the program`);
  });

  test("...and when the program dies of an exception", async () => {
    const child = runChild("embedded", { mode: "throw" }, noRedisEnv());
    const [, pid, dir] = (await child.waitForLine(/^server /, 30_000)).split(" ");
    assert.equal(await child.exited, 1);
    assert.ok(await gone(Number(pid)));
    assert.ok(await removed(dir), `${dir} outlived the program`);
  });

  test("...and when an uncaught exception ends the program", async () => {
    const child = runChild("embedded", { mode: "uncaught" }, noRedisEnv());
    const [, pid, dir] = (await child.waitForLine(/^server /, 30_000)).split(" ");
    assert.notEqual(await child.exited, 0);
    assert.ok(await gone(Number(pid)));
    assert.ok(await removed(dir), `${dir} outlived the program`);
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`...and when the program gets ${signal}`, async () => {
      const child = runChild("embedded", { mode: "hang" }, noRedisEnv());
      try {
        const [, pid, dir] = (await child.waitForLine(/^server /, 30_000)).split(" ");
        child.proc.kill(signal);
        const code = await Promise.race([child.exited, sleep(15_000).then(() => "still running")]);
        assert.notEqual(code, "still running");
        assert.ok(await gone(Number(pid)));
        assert.ok(await removed(dir), `${dir} outlived the program`);
      } finally {
        await child.kill();
      }
    });
  }

  test("...and, through its watchdog, within seconds when the program is SIGKILLed", async () => {
    const child = runChild("embedded", { mode: "hang" }, noRedisEnv());
    try {
      const [, pid, dir, , watchdog] = (await child.waitForLine(/^server /, 30_000)).split(" ");
      assert.notEqual(pid, watchdog, "redis-server runs under a watchdog");
      await child.kill();
      assert.ok(await gone(Number(pid)), "redis-server outlived a SIGKILLed program");
      assert.ok(await gone(Number(watchdog)));
      assert.ok(await removed(dir), `${dir} outlived the program`);
    } finally {
      await child.kill();
    }
  });

  test("...and when the program calls Deno.exit / process.exit", async () => {
    const child = runChild("embedded", { mode: "exit" }, noRedisEnv());
    const [, pid, dir] = (await child.waitForLine(/^server /, 30_000)).split(" ");
    await child.exited;
    assert.ok(await gone(Number(pid), 500), "stopped by the exit hook, not only by the watchdog");
    assert.ok(await removed(dir), `${dir} outlived the program`);
  });

  test("without redis-server on PATH the first primitive says how to install it", async () => {
    const child = runChild("embedded", { mode: "natural" }, noRedisEnv({ PATH: "/nonexistent" }));
    const line = await child.waitForLine(/^error /, 30_000);
    assert.match(line, /SkypoolError/);
    assert.match(line, /apt-get install redis-server/);
    await child.exited;
  });

  test("a worker (SKYPOOL_NO_EMBEDDED=1) never starts a server", async () => {
    const child = runChild("embedded", { mode: "natural" }, noRedisEnv({ SKYPOOL_NO_EMBEDDED: "1" }));
    const line = await child.waitForLine(/^error /, 30_000);
    assert.match(line, /worker/);
    await child.exited;
  });
});
