// RemoteTransport over an in-memory channel: batches run through the
// sealed path; refusals, answers that do not verify and channel failures
// reach the caller as clear errors, never as successes or hangs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { config } from "../../src/config.ts";
import { SkypoolError, StateError, WorkerLostError } from "../../src/errors.ts";
import { sealResult } from "../../src/remote/envelope.ts";
import { RemoteTransport } from "../../src/remote/remote_transport.ts";
import { stopBundler } from "../../src/task/bundle.ts";
import { task } from "../../src/task/function_ref.ts";
import { failureOf as failure, runChunk as run, withCore } from "../helpers/core_fixtures.ts";
import { inMemoryChannel } from "../helpers/remote_channel.ts";
import { fixturesUrl, makeTempDir, removeDir, timedSleep, withTimeout } from "../helpers/pool_fixtures.ts";

const KEY = "remote-transport-test-key-01";
let dir: string;

const touch = async (path: string): Promise<string> => {
  const fs = await import("node:fs");
  fs.writeFileSync(path, "ran");
  return "ran";
};

describe("RemoteTransport", () => {
  before(async () => {
    config.set({ authkey: KEY });
    dir = await makeTempDir("skypool-remote-transport-");
  });
  after(async () => {
    await stopBundler();
    config.reset();
    await removeDir(dir);
  });

  test("refuses to start without an explicit authkey, saying how to set one", () => {
    const saved = process.env.SKYPOOL_AUTHKEY;
    delete process.env.SKYPOOL_AUTHKEY;
    config.reset();
    try {
      assert.throws(() => new RemoteTransport(inMemoryChannel(), { size: 1 }), (err: Error) => err instanceof SkypoolError && /memory transport/.test(err.message) && /SKYPOOL_AUTHKEY/.test(err.message));
    } finally {
      if (saved !== undefined) process.env.SKYPOOL_AUTHKEY = saved;
      config.set({ authkey: KEY });
    }
  });

  test("runs batches and returns their values", async () => {
    const channel = inMemoryChannel();
    await withCore(new RemoteTransport(channel, { size: 2 }), async (core) => {
      const outcomes = await Promise.all([[1, 2], [3], [4, 5, 6]].map((items) => run(core, (x: number) => x * x, items)));
      assert.deepEqual(outcomes.map((o) => o.ok && o.values), [[1, 4], [9], [16, 25, 36]]);
    });
    assert.equal(channel.sent.length, 3);
  });

  test("keeps at most size batches in flight", async () => {
    const channel = inMemoryChannel();
    await withCore(new RemoteTransport(channel, { size: 2 }), async (core) => {
      await Promise.all(Array.from({ length: 6 }, () => run(core, timedSleep, [[30]], false)));
    });
    assert.equal(channel.mostInFlight, 2);
  });

  test("a batch tampered with on the way runs nothing and fails with a SkypoolError that says why", async () => {
    const path = join(dir, "tampered");
    const channel = inMemoryChannel({ alter: (b) => { const t = b.slice(); t[t.length - 3] ^= 1; return t; } });
    const err = await withCore(new RemoteTransport(channel, { size: 1 }), async (core) => failure(await run(core, touch, [path])));
    assert.ok(err instanceof SkypoolError, String(err));
    assert.match(err.message, /memory worker ran nothing of the batch: .*signature does not match/);
    assert.equal(existsSync(path), false);
  });

  test("an answer signed with another key is not taken as a success", async () => {
    const channel = inMemoryChannel({
      answer: () => sealResult({ batchId: "forged", status: "ok", payload: new Uint8Array(0), workerId: "evil", workerStart: 0, workerEnd: 0 }, "not-the-callers-key-012345"),
    });
    const err = await withCore(new RemoteTransport(channel, { size: 1 }), async (core) => failure(await run(core, (x: number) => x, [1])));
    assert.ok(err instanceof SkypoolError && /signature does not match/.test(err.message), String(err));
  });

  test("garbage for an answer fails the batch", async () => {
    const channel = inMemoryChannel({ answer: () => new TextEncoder().encode("<html>502 Bad Gateway</html>") });
    const err = await withCore(new RemoteTransport(channel, { size: 1 }), async (core) => failure(await run(core, (x: number) => x, [1])));
    assert.ok(err instanceof SkypoolError && /not a skypool envelope/.test(err.message), String(err));
  });

  test("a channel that fails ends the batch with its error", async () => {
    const channel = { ...inMemoryChannel(), name: "broken", send: () => Promise.reject(new WorkerLostError("connection reset")) };
    const err = await withCore(new RemoteTransport(channel, { size: 1 }), async (core) => failure(await run(core, (x: number) => x, [1])));
    assert.ok(err instanceof WorkerLostError && err.message === "connection reset");
  });

  test("a task error keeps its class", async () => {
    await withCore(new RemoteTransport(inMemoryChannel(), { size: 1 }), async (core) => {
      const err = failure(await run(core, (m: string) => { throw new TypeError(m); }, ["no"]));
      assert.ok(err instanceof TypeError && err.message === "no");
    });
  });

  test("a module ref to a file on this machine is bundled and sent inline to a worker that lacks it", async () => {
    const channel = inMemoryChannel();
    await withCore(new RemoteTransport(channel, { size: 1 }), async (core) => {
      const o = await run(core, task(fixturesUrl, "mul"), [[6, 7]], false);
      assert.deepEqual(o.ok && o.values, [42]);
    });
    assert.ok(channel.sent.length >= 1);
  });

  test("stopping a running batch aborts its send and reports at once", async () => {
    const channel = inMemoryChannel({ delayMs: 10_000 });
    const transport = new RemoteTransport(channel, { size: 1 });
    transport.start({});
    try {
      let outcome: unknown;
      const stop = transport.submit({ fn: { kind: "source", id: "s:x", source: "(x) => x" }, payload: new Uint8Array(0), count: 0 }, (o) => outcome = o);
      await new Promise((r) => setTimeout(r, 20));
      stop(new StateError("stopped by test"));
      assert.deepEqual(outcome, { status: "lost", error: new StateError("stopped by test") });
    } finally {
      await transport.terminate();
    }
    assert.equal(channel.terminated, true);
  });

  test("terminate ends queued and running batches as lost; close after it resolves", async () => {
    const channel = inMemoryChannel({ delayMs: 10_000 });
    const transport = new RemoteTransport(channel, { size: 1 });
    transport.start({});
    const outcomes: { status: string; error?: Error }[] = [];
    for (let i = 0; i < 3; i++) transport.submit({ fn: { kind: "source", id: "s:x", source: "(x) => x" }, payload: new Uint8Array(0), count: 0 }, (o) => outcomes.push(o as never));
    await new Promise((r) => setTimeout(r, 20));
    await withTimeout(transport.terminate(), 5000, "terminate");
    await withTimeout(transport.close(), 5000, "close after terminate");
    assert.equal(outcomes.length, 3);
    assert.ok(outcomes.every((o) => o.status === "lost" && o.error instanceof WorkerLostError));
  });
});
