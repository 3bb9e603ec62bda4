// Sealed envelopes: what a batch and its result carry, and that any change,
// another key, an expired batch or stray bytes are refused before anything
// in them is read.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { SkypoolError } from "../../src/errors.ts";
import { config } from "../../src/config.ts";
import { openAnswer, openBatch, requireRemoteAuthkey, sealBatch, sealRefusal, sealResult } from "../../src/remote/envelope.ts";

const KEY = "envelope-test-key-0123456789";
const fn = { kind: "source" as const, id: "s:t", source: "(x) => x" };

function sample() {
  return sealBatch({
    fn,
    payload: new Uint8Array([1, 2, 3, 250]),
    each: true,
    count: 4,
    setup: { fn: { kind: "module" as const, id: "m:i", url: "node:path", exportName: "join" }, args: new Uint8Array([9, 8]) },
    env: { A: "1" },
    stdout: { channel: "x" },
    deadline: Date.now() + 60_000,
    answerUrl: "s3://bucket/skypool/s1/lambda/b.answer",
  }, KEY);
}

describe("batch envelope", () => {
  test("opens to what was sealed", () => {
    const { bytes, batchId, expiresAt } = sample();
    const b = openBatch(bytes, KEY);
    assert.equal(b.batchId, batchId);
    assert.equal(b.expiresAt, expiresAt);
    assert.deepEqual(b.fn, fn);
    assert.deepEqual([...b.payload], [1, 2, 3, 250]);
    assert.equal(b.each, true);
    assert.equal(b.count, 4);
    assert.deepEqual([...b.setup!.args], [9, 8]);
    assert.equal(b.setup!.fn.id, "m:i");
    assert.deepEqual(b.env, { A: "1" });
    assert.deepEqual(b.stdout, { channel: "x" });
    assert.ok(b.deadline! > Date.now());
    assert.equal(b.answerUrl, "s3://bucket/skypool/s1/lambda/b.answer", "where a large answer goes is signed with the rest");
  });

  test("expires after config.redisExpiryTime by default", () => {
    config.set({ redisExpiryTime: 7 });
    try {
      const { bytes } = sealBatch({ fn, payload: new Uint8Array(0), each: false, count: 0, createdAt: 1000 }, KEY);
      assert.equal(openBatch(bytes, KEY, 1000).expiresAt, 8000);
    } finally {
      config.reset();
    }
  });

  test("a change to any byte is refused", () => {
    const { bytes } = sample();
    for (let i = 0; i < bytes.length; i++) {
      const tampered = bytes.slice();
      tampered[i] ^= 0x01;
      assert.throws(() => openBatch(tampered, KEY), SkypoolError, `byte ${i} of ${bytes.length}`);
    }
  });

  test("a cut or extended envelope is refused", () => {
    const { bytes } = sample();
    for (const cut of [0, 3, 6, 20, 38, bytes.length - 1]) assert.throws(() => openBatch(bytes.subarray(0, cut), KEY), SkypoolError, `cut at ${cut}`);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assert.throws(() => openBatch(longer, KEY), SkypoolError);
  });

  test("another key is refused, and the message says the keys must match", () => {
    const { bytes } = sample();
    assert.throws(() => openBatch(bytes, "another-key-0123456789"), (err: Error) => err instanceof SkypoolError && /signature does not match/.test(err.message) && /SKYPOOL_AUTHKEY/.test(err.message));
  });

  test("an expired batch is refused, and a replay of a valid one after its expiry too", () => {
    const now = Date.now();
    const { bytes } = sealBatch({ fn, payload: new Uint8Array(0), each: false, count: 0, createdAt: now, expiresAt: now + 1000 }, KEY);
    assert.equal(openBatch(bytes, KEY, now + 999).count, 0);
    assert.throws(() => openBatch(bytes, KEY, now + 1001), /expired/);
  });

  test("garbage is refused without being read", () => {
    const garbage = [new Uint8Array(0), new TextEncoder().encode("GET / HTTP/1.1\r\n"), crypto.getRandomValues(new Uint8Array(4096))];
    for (const g of garbage) assert.throws(() => openBatch(g, KEY), SkypoolError);
    const wrongVersion = sample().bytes.slice();
    wrongVersion[4] = 99;
    assert.throws(() => openBatch(wrongVersion, KEY), /version 99/);
  });

  test("a result is not accepted as a batch, nor a batch as a result", () => {
    const result = sealResult({ batchId: "b", status: "ok", payload: new Uint8Array(0), workerId: "w", workerStart: 0, workerEnd: 0 }, KEY);
    assert.throws(() => openBatch(result, KEY), /not a batch/);
    assert.throws(() => openAnswer(sample().bytes, "b", KEY), /not a result/);
  });
});

describe("result envelope", () => {
  const result = { batchId: "b1", status: "threw" as const, payload: new Uint8Array([5, 6]), workerId: "host/1", workerStart: 10, workerEnd: 20, stdout: "out" };

  test("opens to what was sealed", () => {
    const a = openAnswer(sealResult(result, KEY), "b1", KEY);
    assert.equal(a.kind, "result");
    if (a.kind !== "result") return;
    assert.deepEqual({ ...a.result, payload: [...a.result.payload] }, { ...result, payload: [5, 6] });
  });

  test("a tampered result, another key's, or another batch's is refused", () => {
    const bytes = sealResult(result, KEY);
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice();
      t[i] ^= 0x80;
      assert.throws(() => openAnswer(t, "b1", KEY), SkypoolError, `byte ${i}`);
    }
    assert.throws(() => openAnswer(bytes, "b1", "another-key-0123456789"), /signature/);
    assert.throws(() => openAnswer(bytes, "b2", KEY), /another batch/);
  });

  test("a refusal is read without a key and only as a refusal", () => {
    const a = openAnswer(sealRefusal("x".repeat(5000), "b1"), "b1", KEY);
    assert.equal(a.kind, "refusal");
    assert.ok(a.kind === "refusal" && a.message.length <= 1000 && a.batchId === "b1");
  });
});

describe("requireRemoteAuthkey", () => {
  test("refuses without an explicit key and says how to set one", () => {
    const saved = process.env.SKYPOOL_AUTHKEY;
    delete process.env.SKYPOOL_AUTHKEY;
    config.reset();
    try {
      assert.throws(() => requireRemoteAuthkey("the http transport"), (err: Error) => err instanceof SkypoolError && /the http transport/.test(err.message) && /SKYPOOL_AUTHKEY/.test(err.message));
      config.set({ authkey: KEY });
      assert.equal(requireRemoteAuthkey("x"), KEY);
    } finally {
      if (saved !== undefined) process.env.SKYPOOL_AUTHKEY = saved;
      config.reset();
    }
  });
});
