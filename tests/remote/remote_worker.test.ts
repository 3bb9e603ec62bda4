// The remote worker core: a sealed batch in, a sealed result out; a batch
// that is tampered with, signed with another key, expired, replayed after
// its expiry, or not a batch at all runs nothing and is answered with a
// refusal.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { config } from "../../src/config.ts";
import { openAnswer, sealBatch } from "../../src/remote/envelope.ts";
import { handleBatch } from "../../src/remote/remote_worker.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { shipFunction, task } from "../../src/task/function_ref.ts";
import { makeTempDir, removeDir, sleep } from "../helpers/pool_fixtures.ts";

const KEY = "remote-worker-test-key-0123";
let dir: string;

/** Writes a file: the side effect that must not happen when a batch is refused. */
const touch = async (path: string): Promise<string> => {
  const fs = await import("node:fs");
  fs.writeFileSync(path, "ran");
  return "ran";
};

function touchBatch(path: string, extra: { createdAt?: number; expiresAt?: number } = {}, key = KEY) {
  return sealBatch({ fn: shipFunction(touch), payload: encode([path]), each: true, count: 1, ...extra }, key);
}

async function answerOf(sealed: Uint8Array, batchId: string) {
  return openAnswer(await handleBatch(sealed), batchId, KEY);
}

describe("handleBatch", () => {
  before(async () => {
    config.set({ authkey: KEY });
    dir = await makeTempDir("skypool-remote-worker-");
  });
  after(async () => {
    config.reset();
    await removeDir(dir);
  });

  test("runs a batch and seals its results, naming the worker and its times", async () => {
    const before = Date.now();
    const { bytes, batchId } = sealBatch({ fn: shipFunction((x: number) => x * 3), payload: encode([1, 2, 3]), each: true, count: 3 }, KEY);
    const a = await answerOf(bytes, batchId);
    assert.equal(a.kind, "result");
    if (a.kind !== "result") return;
    assert.equal(a.result.status, "ok");
    assert.deepEqual(decode(a.result.payload), [3, 6, 9]);
    assert.equal(a.result.workerId, `${(await import("node:os")).hostname()}/${process.pid}`);
    assert.ok(a.result.workerStart >= before && a.result.workerEnd >= a.result.workerStart);
  });

  test("a task that throws comes back as threw with the thrown value", async () => {
    const { bytes, batchId } = sealBatch({ fn: shipFunction((m: string) => { throw new RangeError(m); }), payload: encode([["bad"]]), each: false, count: 1 }, KEY);
    const a = await answerOf(bytes, batchId);
    assert.ok(a.kind === "result" && a.result.status === "threw");
    const err = decode(a.result.payload) as Error;
    assert.ok(err instanceof RangeError && err.message === "bad");
  });

  test("a tampered batch runs nothing, wherever the change is", async () => {
    const path = join(dir, "tampered");
    const { bytes, batchId } = touchBatch(path);
    // Magic, version, type, MAC, header and payload.
    for (const i of [0, 4, 5, 6, 37, 38, 45, Math.floor(bytes.length / 2), bytes.length - 2, bytes.length - 1]) {
      const t = bytes.slice();
      t[i] ^= 0x04;
      const a = await answerOf(t, batchId);
      assert.equal(a.kind, "refusal", `byte ${i}`);
      assert.ok(a.kind === "refusal" && /refused/.test(a.message));
    }
    assert.equal(existsSync(path), false);
  });

  test("a batch signed with another key runs nothing", async () => {
    const path = join(dir, "wrong-key");
    const { bytes, batchId } = touchBatch(path, {}, "some-other-key-0123456789");
    const a = await answerOf(bytes, batchId);
    assert.ok(a.kind === "refusal" && /signature does not match/.test(a.message), JSON.stringify(a));
    assert.equal(existsSync(path), false);
  });

  test("an expired batch runs nothing", async () => {
    const path = join(dir, "expired");
    const { bytes, batchId } = touchBatch(path, { createdAt: Date.now() - 10_000, expiresAt: Date.now() - 1 });
    const a = await answerOf(bytes, batchId);
    assert.ok(a.kind === "refusal" && /expired/.test(a.message));
    assert.equal(existsSync(path), false);
  });

  test("a batch replayed after its expiry runs nothing", async () => {
    const path = join(dir, "replayed");
    const { bytes, batchId } = touchBatch(path, { expiresAt: Date.now() + 300 });
    const first = await answerOf(bytes, batchId);
    assert.ok(first.kind === "result" && first.result.status === "ok");
    assert.equal(existsSync(path), true, "the first delivery ran");
    rmSync(path);
    await sleep(400);
    const replay = await answerOf(bytes, batchId);
    assert.ok(replay.kind === "refusal" && /expired/.test(replay.message));
    assert.equal(existsSync(path), false, "the replay ran nothing");
  });

  test("garbage bytes are refused", async () => {
    for (const g of [new Uint8Array(0), new TextEncoder().encode("{\"fn\":\"x\"}"), crypto.getRandomValues(new Uint8Array(1000))]) {
      const a = await answerOf(g, "none");
      assert.equal(a.kind, "refusal");
    }
  });

  test("a worker without an explicit authkey runs nothing and says why", async () => {
    const path = join(dir, "no-key");
    const { bytes, batchId } = touchBatch(path);
    const saved = process.env.SKYPOOL_AUTHKEY;
    delete process.env.SKYPOOL_AUTHKEY;
    config.reset();
    try {
      const a = openAnswer(await handleBatch(bytes), batchId, KEY);
      assert.ok(a.kind === "refusal" && /no authkey/.test(a.message) && /SKYPOOL_AUTHKEY/.test(a.message));
    } finally {
      if (saved !== undefined) process.env.SKYPOOL_AUTHKEY = saved;
      config.set({ authkey: KEY });
    }
    assert.equal(existsSync(path), false);
  });

  test("runs the initializer once per process, and applies env while the batch runs", async () => {
    const init = (tag: string) => {
      const g = globalThis as { __remoteInits?: string[] };
      (g.__remoteInits ??= []).push(tag);
    };
    const read = (name: string) => [process.env[name], (globalThis as { __remoteInits?: string[] }).__remoteInits];
    const setup = { fn: shipFunction(init), args: encode(["t1"]) };
    for (let i = 0; i < 3; i++) {
      const { bytes, batchId } = sealBatch({ fn: shipFunction(read), payload: encode(["SKYPOOL_REMOTE_TEST_VAR"]), each: true, count: 1, setup, env: { SKYPOOL_REMOTE_TEST_VAR: "on" } }, KEY);
      const a = await answerOf(bytes, batchId);
      assert.ok(a.kind === "result" && a.result.status === "ok");
      assert.deepEqual(decode(a.result.payload), [["on", ["t1"]]]);
    }
    assert.equal(process.env.SKYPOOL_REMOTE_TEST_VAR, undefined, "env is restored after the batch");
  });

  test("a variable stays set until the last overlapping batch that set it ends", async () => {
    const readLater = async (name: string, ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return (await import("node:process")).default.env[name];
    };
    const seal = (ms: number) => sealBatch({ fn: shipFunction(readLater), payload: encode([["SKYPOOL_REMOTE_OVERLAP", ms]]), each: false, count: 1, env: { SKYPOOL_REMOTE_OVERLAP: "set" } }, KEY);
    const quick = seal(0), slow = seal(200);
    // The quick one sets the variable first and ends first.
    const [a, b] = await Promise.all([answerOf(quick.bytes, quick.batchId), answerOf(slow.bytes, slow.batchId)]);
    assert.ok(a.kind === "result" && b.kind === "result");
    assert.deepEqual([decode(a.result.payload), decode(b.result.payload)], [["set"], ["set"]]);
    assert.equal(process.env.SKYPOOL_REMOTE_OVERLAP, undefined);
  });

  test("an initializer that throws fails the batch as init-failed", async () => {
    const setup = { fn: shipFunction((m: string) => { throw new Error(m); }), args: encode(["init broke"]) };
    const { bytes, batchId } = sealBatch({ fn: shipFunction((x: number) => x), payload: encode([1]), each: true, count: 1, setup }, KEY);
    const a = await answerOf(bytes, batchId);
    assert.ok(a.kind === "result" && a.result.status === "init-failed");
    assert.equal((decode(a.result.payload) as Error).message, "init broke");
  });

  test("a skypool: module ref resolves against this copy of skypool", async () => {
    const ref = { kind: "module" as const, id: "m:pr", url: "skypool:src/remote/portable_ref", exportName: "localRef" };
    const { bytes, batchId } = sealBatch({ fn: ref, payload: encode([{ kind: "module", id: "x", url: "skypool:src/task/codec", exportName: "encode" }]), each: true, count: 1 }, KEY);
    const a = await answerOf(bytes, batchId);
    assert.ok(a.kind === "result" && a.result.status === "ok");
    const [resolved] = decode(a.result.payload) as { url: string }[];
    assert.equal(resolved.url, new URL(`../../src/task/codec${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url).href);
  });

  test("a bundle ref without its bundle answers need-bundle; with it, runs", async () => {
    const code = `export const f = (x) => x + 40; // ${Math.random()}`;
    const hash = createHash("sha256").update(code).digest("hex");
    const ref = { kind: "bundle" as const, id: "b:1", hash, exportName: "f" };
    const one = sealBatch({ fn: ref, payload: encode([2]), each: true, count: 1 }, KEY);
    const a = await answerOf(one.bytes, one.batchId);
    assert.ok(a.kind === "result" && a.result.status === "need-bundle" && a.result.hashes?.[0] === hash);
    const two = sealBatch({ fn: ref, payload: encode([2]), each: true, count: 1, bundles: { [hash]: code } }, KEY);
    const b = await answerOf(two.bytes, two.batchId);
    assert.ok(b.kind === "result" && b.result.status === "ok");
    assert.deepEqual(decode(b.result.payload), [42]);
  });

  test("a module ref without that export fails the batch, not the worker", async () => {
    const ref = task("node:path", "noSuchExport").ref;
    const { bytes, batchId } = sealBatch({ fn: ref, payload: encode([1]), each: true, count: 1 }, KEY);
    const a = await answerOf(bytes, batchId);
    assert.ok(a.kind === "result" && a.result.status === "threw");
    assert.match((decode(a.result.payload) as Error).message, /noSuchExport/);
  });
});
