// STREAM_STDOUT end to end: the caller's relay (src/execution/stdout_relay.ts)
// and a worker simulated in a child process (src/worker/stdout_stream.ts),
// through a private redis-server.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createClient } from "npm:redis@^5.8.0";
import { config } from "../../src/config.ts";
import { closeStdoutRelay, releaseStdoutRelay, STDOUT_TARGET_KIND, type StdoutTarget, stdoutTarget, stdoutTargetFields } from "../../src/execution/stdout_relay.ts";
import { ExecutionCore } from "../../src/execution/execution_core.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import { InlineTransport } from "../../src/transport/inline.ts";
import { authkeyEnvironment, sign, verify } from "../../src/task/authkey.ts";
import { withWorkerStdout } from "../../src/worker/stdout_stream.ts";
import { startRedisServer, type TestRedisServer } from "../helpers/redis_server.ts";

const T = { timeout: 120_000 };
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const CHILD = fileURLToPath(new URL(`../helpers/stdout_worker_child${ext}`, import.meta.url));

/** Resolves once `check()` holds; rejects after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("STREAM_STDOUT", () => {
  let server: TestRedisServer;
  let dir: string;
  before(async () => {
    server = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), "skypool-stdout-"));
  });
  after(async () => {
    config.reset();
    await closeStdoutRelay();
    await closeAllConnections();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("is off by default: no target, and a batch without one just runs", T, async () => {
    config.reset();
    assert.equal(await stdoutTarget(), undefined);
    assert.equal(withWorkerStdout(undefined, () => 7), 7);
  });

  test("worker lines reach the caller's stdout while the batch runs, in order, partial last line included; other targets and forged ones are kept apart", T, async () => {
    config.set({ redis: { url: server.url }, streamStdout: true });
    const target = (await stdoutTarget())!;
    assert.ok(verify(STDOUT_TARGET_KIND, stdoutTargetFields(target), target.mac), "the target is signed with this program's key");
    assert.equal(await stdoutTarget(), target, "one subscription per process");

    // Lines the relay prints to this process's stdout (anything else passes through).
    const relayed: string[] = [];
    const stdout = process.stdout as unknown as { write: (...args: unknown[]) => boolean };
    const write = stdout.write;
    stdout.write = function (this: unknown, ...args: unknown[]) {
      const text = String(args[0]);
      if (/^(A|B|forged|child)/.test(text)) {
        relayed.push(text);
        return true;
      }
      return write.apply(this, args);
    };
    // A second caller's channel, listened to directly.
    const otherChannel = `${target.channel}:other`;
    const other: StdoutTarget = { ...target, channel: otherChannel, mac: sign(STDOUT_TARGET_KIND, stdoutTargetFields({ ...target, channel: otherChannel })) };
    const forged: StdoutTarget = { ...target, mac: sign(STDOUT_TARGET_KIND, stdoutTargetFields(target), "another-program-key-0123456789") };
    const otherLines: string[] = [];
    const listener = createClient({ url: server.url });
    listener.on("error", () => {});
    await listener.connect();
    await listener.subscribe(otherChannel, (m: string) => void otherLines.push(m));

    const gate = join(dir, "gate");
    const exe = isDeno ? (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath() : process.execPath;
    const args = isDeno ? ["run", "-A", "--no-check", CHILD] : [CHILD];
    const child = spawn(exe, [...args, JSON.stringify({ target, other, forged, gate })], {
      env: { ...process.env, ...authkeyEnvironment() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let childOut = "";
    let childErr = "";
    child.stdout!.on("data", (d) => (childOut += d));
    child.stderr!.on("data", (d) => (childErr += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      // The batch waits for the gate after its first line: that line can only arrive while it runs.
      await until(() => relayed.includes("A1\n"), 30_000, "A1 from the running batch");
      writeFileSync(gate, "");
      assert.equal(await exited, 0, childErr);
      await until(() => relayed.includes("A3 partial\n"), 30_000, "the partial last line");
      await until(() => otherLines.length >= 2, 30_000, "the other target's lines");
      // Late arrivals of anything that should not come would show up here.
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      stdout.write = write;
      child.kill("SIGKILL");
      await listener.unsubscribe(otherChannel);
      listener.destroy();
    }
    assert.deepEqual(relayed, ["A1\n", "A2 formatted\n", "A3 partial\n"]);
    assert.deepEqual(otherLines, ["B1", "B2"]);
    // Every line was still written where the worker runs.
    for (const line of ["A1", "A2 formatted", "A3 partial", "B1", "B2", "forged line", "child done"]) {
      assert.ok(childOut.includes(line), `the worker's own stdout lacks ${JSON.stringify(line)}: ${JSON.stringify(childOut)}`);
    }
    assert.match(childErr, /ignored a stdout target whose authkey signature does not match/);
  });

  test("closing the relay unsubscribes and leaves no connection", T, async () => {
    config.set({ redis: { url: server.url }, streamStdout: true });
    const { channel } = (await stdoutTarget())!;
    const subscribers = async () => (await server.command<[string, number]>(["PUBSUB", "NUMSUB", channel]))[1];
    assert.equal(await subscribers(), 1);
    await closeStdoutRelay();
    assert.equal(await subscribers(), 0);
    const clients = await server.command<string>(["CLIENT", "LIST"]);
    assert.doesNotMatch(clients, /name=skypool-stdout/);
    await closeStdoutRelay(); // idempotent
  });
});

describe("STREAM_STDOUT relay holders", () => {
  let server: TestRedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    config.reset();
    await closeStdoutRelay();
    await server.stop();
  });

  test("the relay stays while a holder has it and closes at the last release (a pool's or executor's core closing)", T, async () => {
    config.set({ redis: { url: server.url }, streamStdout: true });
    const first = {};
    const second = {};
    const { channel } = (await stdoutTarget(first))!;
    assert.equal((await stdoutTarget(second))!.channel, channel);
    const subscribers = async () => (await server.command<[string, number]>(["PUBSUB", "NUMSUB", channel]))[1];
    await releaseStdoutRelay(first);
    assert.equal(await subscribers(), 1, "closed while another holder still had it");
    await releaseStdoutRelay(first); // idempotent
    await releaseStdoutRelay(second);
    assert.equal(await subscribers(), 0);
  });

  test("an execution core holds the relay it asked for until it terminates", T, async () => {
    config.set({ redis: { url: server.url }, streamStdout: true });
    const core = new ExecutionCore(new InlineTransport());
    core.start({});
    const { channel } = (await core.stdoutTarget())!;
    const subscribers = async () => (await server.command<[string, number]>(["PUBSUB", "NUMSUB", channel]))[1];
    assert.equal(await subscribers(), 1);
    await core.terminate();
    assert.equal(await subscribers(), 0);
  });
});
