import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { RawArray, SharedArray } from "../../src/state/shared_array.ts";
import { Lock, RLock } from "../../src/state/lock.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import { handleFromRecord, handleRecord, type HandleRecord } from "../../src/state/handle.ts";
import type { Typecode } from "../../src/state/typecodes.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { StateError } from "../../src/errors.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";
import { setUpRedis, tearDownRedis } from "../helpers/state_setup.ts";
import { authkeyEnvironment } from "../../src/task/authkey.ts";

const SEQ = [412, 77, 905, 36, 588, 120, 263, 999, 54, 731];

// ---------------------------------------------------------------------------
// Child-process mode: this file re-runs itself as another process.

const CHILD_ROLE = process.env.SKYPOOL_ARRAY_TEST_CHILD;
if (CHILD_ROLE !== undefined) {
  const record = JSON.parse(process.env.SKYPOOL_ARRAY_TEST_RECORD!) as HandleRecord;
  const arr = handleFromRecord("array", record) as RawArray<"i">;
  if (CHILD_ROLE === "prefix") {
    // Prefix sums in place, item by item, under the array's lock when it has one.
    const lock = arr instanceof SharedArray ? arr.getLock() : undefined;
    await lock?.acquire();
    try {
      for (let i = 1; i < arr.length; i++) await arr.set(i, (await arr.get(i)) + (await arr.get(i - 1)));
    } finally {
      await lock?.release();
    }
  } else if (CHILD_ROLE === "stripe") {
    // Writes its own stripe of indices many times: per-item writes never clobber neighbours.
    const stripe = Number(process.env.SKYPOOL_ARRAY_TEST_STRIPE);
    for (let round = 1; round <= 20; round++) {
      for (let i = stripe; i < arr.length; i += 4) await arr.set(i, round * 1000 + i);
    }
  }
  await closeAllConnections();
  process.exit(0);
}

function runChild(role: string, arr: RawArray, env: Record<string, string> = {}): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, args] = deno ? [deno.execPath(), ["run", "-A", self]] : [process.execPath, [self]];
  const child = spawn(cmd, args, {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      ...authkeyEnvironment(),
      ...env,
      SKYPOOL_ARRAY_TEST_CHILD: role,
      SKYPOOL_ARRAY_TEST_RECORD: JSON.stringify(handleRecord(arr)),
    },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child ${role} timed out`));
    }, 90_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

function prefixSums(xs: number[]): number[] {
  const out = xs.slice();
  for (let i = 1; i < out.length; i++) out[i] += out[i - 1];
  return out;
}

let server: TestRedisServer;

describe("SharedArray and RawArray", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(async () => {
    await tearDownRedis(server);
  });

  test("ARR-01/03: reads, slices, slice assignment, and prefix sums computed by a child process", async () => {
    for (const Cls of [SharedArray, RawArray]) {
      const arr = new Cls("i", SEQ);
      assert.equal(arr.length, 10);
      assert.equal(await arr.get(3), SEQ[3]);
      assert.deepEqual(await arr.slice(2, 7), SEQ.slice(2, 7));
      assert.deepEqual(await arr.toArray(), SEQ);
      await arr.setSlice(4, [1, 2, 3, 4]);
      const expected = [...SEQ.slice(0, 4), 1, 2, 3, 4, ...SEQ.slice(8)];
      assert.deepEqual(await arr.slice(), expected);
      assert.equal(await runChild("prefix", arr), 0);
      assert.deepEqual(await arr.toArray(), prefixSums(expected), Cls.name);
    }
  });

  test("a child process sees the initial contents of an array it got before any use", async () => {
    const arr = new RawArray("i", [5, 6, 7]);
    assert.equal(await runChild("prefix", arr), 0);
    assert.deepEqual(await arr.toArray(), [5, 11, 18]);
  });

  test("ARR-02: an array from a size is zero-initialised, every time", async () => {
    for (let round = 0; round < 3; round++) {
      const arr = new SharedArray("i", 10);
      assert.deepEqual(await arr.toArray(), new Array(10).fill(0));
      await arr.setSlice(0, Array.from({ length: 10 }, (_, i) => i));
      assert.deepEqual(await arr.toArray(), Array.from({ length: 10 }, (_, i) => i));
    }
    assert.deepEqual(await new RawArray("d", 3).toArray(), [0, 0, 0]);
    assert.deepEqual(await new RawArray("q", 2).toArray(), [0n, 0n]);
  });

  test("LITH-27: RawArray('i', 3) is [0, 0, 0]; a string is refused for an int array", async () => {
    assert.deepEqual(await new RawArray("i", 3).toArray(), [0, 0, 0]);
    assert.throws(() => new RawArray("i", "nope" as never), TypeError);
    assert.throws(() => new SharedArray("i", [1, "x"] as never), TypeError);
  });

  test("char arrays hold bytes; toBytes gives the byte string", async () => {
    const c = new SharedArray("c", "abc");
    assert.deepEqual(await c.toBytes(), new TextEncoder().encode("abc"));
    assert.deepEqual(await c.slice(0, 2), [Uint8Array.of(0x61), Uint8Array.of(0x62)]);
    await c.set(1, "B");
    assert.equal(new TextDecoder().decode(await c.toBytes()), "aBc");
    const fromBytes = new RawArray("c", Uint8Array.of(0, 255));
    assert.deepEqual(await fromBytes.get(1), Uint8Array.of(255));
    const wide = new RawArray("u", "h€😀");
    assert.equal(wide.length, 3);
    assert.deepEqual(await wide.toArray(), ["h", "€", "😀"]);
  });

  test("items wrap and round like C", async () => {
    const b = new RawArray("B", [255, 256, -1]);
    assert.deepEqual(await b.toArray(), [255, 0, 255]);
    const f = new RawArray("f", [0.1]);
    assert.deepEqual(await f.toArray(), [Math.fround(0.1)]);
    const q = new RawArray("q", [2 ** 40, -1]);
    assert.deepEqual(await q.toArray(), [2n ** 40n, -1n]);
    await q.set(0, 2n ** 64n + 5n);
    assert.equal(await q.get(0), 5n);
  });

  test("indices: negative from the end, out of range is a RangeError, fractions a TypeError", async () => {
    const arr = new RawArray("h", [1, 2, 3]);
    assert.equal(await arr.get(-1), 3);
    await arr.set(-3, 9);
    assert.equal(await arr.get(0), 9);
    for (const bad of [3, -4, 100]) {
      await assert.rejects(arr.get(bad), RangeError);
      await assert.rejects(arr.set(bad, 1), RangeError);
    }
    await assert.rejects(arr.get(1.5), TypeError);
    await assert.rejects(arr.set(Number.NaN, 1), TypeError);
    await assert.rejects(arr.setSlice(2, [1, 2]), RangeError);
    await assert.rejects(arr.setSlice(4, []), RangeError);
    await assert.rejects(arr.setSlice(0, [1, 1.5]), TypeError);
    assert.deepEqual(await arr.toArray(), [9, 2, 3], "a refused setSlice writes nothing");
    assert.deepEqual(await arr.slice(-2), [2, 3]);
    assert.deepEqual(await arr.slice(1, -1), [2]);
    assert.deepEqual(await arr.slice(5, 9), []);
    const empty = new RawArray("i", 0);
    assert.equal(empty.length, 0);
    assert.deepEqual(await empty.toArray(), []);
    await assert.rejects(empty.get(0), RangeError);
    assert.throws(() => new RawArray("i", -1), RangeError);
    assert.throws(() => new RawArray("i", 2.5), RangeError);
  });

  test("ARR-05: a bad typecode is a TypeError 'bad typecode'", () => {
    for (const make of [() => new SharedArray("x" as Typecode, []), () => new RawArray("x" as Typecode, [])]) {
      assert.throws(make, (e: unknown) => e instanceof TypeError && /bad typecode/.test(e.message));
    }
  });

  test("ARR-04: getLock variants", () => {
    assert.ok(new SharedArray("i", 2).getLock() instanceof RLock);
    const lock = new Lock();
    assert.equal(new SharedArray("i", 2, { lock }).getLock(), lock);
    assert.throws(() => new SharedArray("i", 2, { lock: false }).getLock(), StateError);
    assert.throws(() => new SharedArray("i", 2, { lock: "notalock" as unknown as boolean }), TypeError);
    assert.equal("getLock" in new RawArray("i", 2), false);
  });

  test("concurrent per-item writes from four processes never clobber each other", async () => {
    const arr = new RawArray("i", 40);
    const codes = await Promise.all([0, 1, 2, 3].map((s) => runChild("stripe", arr, { SKYPOOL_ARRAY_TEST_STRIPE: String(s) })));
    assert.deepEqual(codes, [0, 0, 0, 0]);
    assert.deepEqual(await arr.toArray(), Array.from({ length: 40 }, (_, i) => 20_000 + i));
  });

  test("an array travels through the codec (size, typecode, lock and contents)", async () => {
    const arr = new SharedArray("d", [0.5, 1.5]);
    const copy = decode(encode([arr]))! as SharedArray<"d">[];
    assert.ok(copy[0] instanceof SharedArray);
    assert.equal(copy[0].length, 2);
    assert.equal(copy[0].typecode, "d");
    assert.deepEqual(await copy[0].toArray(), [0.5, 1.5]);
    await copy[0].set(1, 4);
    assert.deepEqual(await arr.toArray(), [0.5, 4]);
    assert.ok(copy[0].getLock() instanceof RLock);
    const raw = decode(encode(new RawArray("B", [1, 2, 3]))) as RawArray<"B">;
    assert.ok(raw instanceof RawArray && !(raw instanceof SharedArray));
    assert.deepEqual(await raw.toArray(), [1, 2, 3]);
  });

  test("no array key is left without a TTL", async () => {
    const arr = new SharedArray("i", [1, 2]);
    await arr.set(0, 5);
    assert.ok((await server.keys()).length > 0);
    assert.deepEqual(await server.keysWithoutTtl(), []);
  });
});
