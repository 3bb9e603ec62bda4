// Issue 9's security cases over the fleet: a tampered batch, one sealed
// with another key, an expired one, a replay after its expiry, garbage
// bytes in the stream. Each is refused by the worker, which runs nothing
// from it (the side-effect file never appears) and keeps serving; each
// refusal reaches the caller.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Pool, SkypoolError } from "../../mod.ts";
import { config } from "../../src/config.ts";
import type { BatchChannel } from "../../src/remote/batch_channel.ts";
import { openAnswer, sealBatch } from "../../src/remote/envelope.ts";
import { RemoteTransport } from "../../src/remote/remote_transport.ts";
import { encode } from "../../src/task/codec.ts";
import { shipFunction } from "../../src/task/function_ref.ts";
import { FleetChannel } from "../../src/transport/fleet.ts";
import { type FleetFixture, startFleet } from "../helpers/fleet_setup.ts";
import { makeTempDir, removeDir, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 90_000 };
const KEY = "fleet-security-key-0123456789";

/** The side effect that must not happen: writes `path`. */
const touch = async (path: string): Promise<string> => {
  (await import("node:fs")).writeFileSync(path, "ran");
  return "ran";
};

function sealTouch(path: string, key = KEY, times: { createdAt?: number; expiresAt?: number } = {}) {
  return sealBatch({ fn: shipFunction(touch), payload: encode([[path]]), each: false, count: 1, ...times }, key);
}

async function sendRaw(channel: FleetChannel, bytes: Uint8Array, batchId: string) {
  const answer = await withTimeout(channel.send(bytes, { batchId }, new AbortController().signal), 30_000, `answer to ${batchId}`);
  return openAnswer(answer, batchId, KEY);
}

describe("fleet: refused batches", () => {
  let fleet: FleetFixture;
  let dir: string;
  let channel: FleetChannel;
  before(async () => {
    fleet = await startFleet({ handler: "core", leaseMs: 2000 });
    config.set({ authkey: KEY });
    dir = await makeTempDir("skypool-fleet-sec-");
    await fleet.startWorker();
    channel = new FleetChannel();
  });
  after(async () => {
    await channel.terminate();
    await fleet.stop();
    await removeDir(dir);
  });
  // The worker still serves after each refusal: a genuine batch runs.
  afterEach(async () => {
    const path = join(dir, `genuine-${Math.random()}`);
    const sealed = sealTouch(path);
    const answer = await sendRaw(channel, sealed.bytes, sealed.batchId);
    assert.equal(answer.kind, "result");
    assert.ok(existsSync(path), "the worker keeps serving after a refusal");
  });

  test("a tampered batch is refused and nothing runs", T, async () => {
    const path = join(dir, "tampered");
    const { bytes, batchId } = sealTouch(path);
    const bad = bytes.slice();
    bad[bad.length - 3] ^= 1;
    const answer = await sendRaw(channel, bad, batchId);
    assert.equal(answer.kind, "refusal");
    assert.match(answer.kind === "refusal" ? answer.message : "", /MAC|signature|verif/i);
    assert.ok(!existsSync(path));
  });

  test("a batch sealed with another key is refused and nothing runs", T, async () => {
    const path = join(dir, "other-key");
    const { bytes, batchId } = sealTouch(path, "some-other-key-0123456789");
    const answer = await sendRaw(channel, bytes, batchId);
    assert.equal(answer.kind, "refusal");
    assert.ok(!existsSync(path));
  });

  test("an expired batch is refused and nothing runs", T, async () => {
    const path = join(dir, "expired");
    const { bytes, batchId } = sealTouch(path, KEY, { createdAt: Date.now() - 60_000, expiresAt: Date.now() - 30_000 });
    const answer = await sendRaw(channel, bytes, batchId);
    assert.equal(answer.kind, "refusal");
    assert.match(answer.kind === "refusal" ? answer.message : "", /expired/);
    assert.ok(!existsSync(path));
  });

  test("a batch replayed after its expiry is refused: it ran once, not twice", T, async () => {
    const path = join(dir, "replayed");
    const { bytes, batchId } = sealTouch(path, KEY, { expiresAt: Date.now() + 1500 });
    assert.equal((await sendRaw(channel, bytes, batchId)).kind, "result");
    const { rmSync } = await import("node:fs");
    rmSync(path);
    await new Promise((r) => setTimeout(r, 1600));
    const replay = await sendRaw(channel, bytes, batchId);
    assert.equal(replay.kind, "refusal");
    assert.match(replay.kind === "refusal" ? replay.message : "", /expired/);
    assert.ok(!existsSync(path), "the replay ran nothing");
  });

  test("garbage bytes in the stream are refused", T, async () => {
    const answer = await sendRaw(channel, new TextEncoder().encode("rm -rf / # not a batch"), "garbage-1");
    assert.equal(answer.kind, "refusal");
  });

  test("through a Pool, the refused task rejects with a SkypoolError that says so", T, async () => {
    const path = join(dir, "pool-tampered");
    const fleetChannel = new FleetChannel();
    // A channel between the transport and the stream that flips a byte of every batch.
    const tampering: BatchChannel = {
      name: "fleet",
      start: () => fleetChannel.start(),
      send: (sealed, info, signal) => {
        const bad = sealed.slice();
        bad[bad.length - 1] ^= 0xff;
        return fleetChannel.send(bad, info, signal);
      },
      close: () => fleetChannel.close(),
      terminate: () => fleetChannel.terminate(),
    };
    const pool = new Pool({ processes: 1, transport: new RemoteTransport(tampering, { size: 1 }) });
    try {
      await assert.rejects(withTimeout(pool.apply(touch, [path]), 30_000, "tampered apply"), (err) => {
        assert.ok(err instanceof SkypoolError, String(err));
        assert.match((err as Error).message, /refused/i);
        return true;
      });
      assert.ok(!existsSync(path));
    } finally {
      await pool.terminate();
    }
  });
});
