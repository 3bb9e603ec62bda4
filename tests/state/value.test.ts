import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { RawValue, Value } from "../../src/state/value.ts";
import { Lock, RLock } from "../../src/state/lock.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import { handleFromRecord, handleRecord, type HandleRecord } from "../../src/state/handle.ts";
import type { Typecode } from "../../src/state/typecodes.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { StateError } from "../../src/errors.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";
import { setUpRedis, tearDownRedis } from "../helpers/state_setup.ts";
import { authkeyEnvironment } from "../../src/task/authkey.ts";

// Values for VAL-01: [typecode, initial, what a child sets]; 64-bit round trips beyond 2^32.
const VAL01: [Typecode, unknown, unknown][] = [
  ["i", 5151, 42_4242],
  ["d", 7.125, -9.5],
  ["h", -321, 321],
  ["q", 2n ** 35n, 2n ** 41n + 3n],
  ["c", Uint8Array.of(0x61), Uint8Array.of(0x7a)],
];
const INCREMENTS = 40;

// ---------------------------------------------------------------------------
// Child-process mode: this file re-runs itself as another process.

const CHILD_ROLE = process.env.SKYPOOL_VALUE_TEST_CHILD;
if (CHILD_ROLE !== undefined) {
  const records = JSON.parse(process.env.SKYPOOL_VALUE_TEST_RECORDS!) as [string, HandleRecord][];
  const handles = records.map(([kind, r]) => handleFromRecord(kind, r));
  if (CHILD_ROLE === "val01") {
    for (const [i, h] of handles.entries()) {
      const v = h as RawValue;
      // The child first checks that it sees the initial value (seeded by whoever ran first).
      assert.deepEqual(await v.get(), VAL01[i][1]);
      await v.set(VAL01[i][2] as never);
    }
  } else if (CHILD_ROLE === "increment") {
    const [counter, lock] = handles as [RawValue<"i">, Lock];
    for (let i = 0; i < INCREMENTS; i++) {
      await lock.acquire();
      try {
        await counter.set((await counter.get()) + 1);
      } finally {
        await lock.release();
      }
    }
  }
  await closeAllConnections();
  process.exit(0);
}

function runChild(role: string, handles: RawValue[] | (RawValue | Lock)[]): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, args] = deno ? [deno.execPath(), ["run", "-A", self]] : [process.execPath, [self]];
  const records = handles.map((h) => [h.kind, JSON.parse(JSON.stringify(handleRecord(h)))]);
  const child = spawn(cmd, args, {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, ...authkeyEnvironment(), SKYPOOL_VALUE_TEST_CHILD: role, SKYPOOL_VALUE_TEST_RECORDS: JSON.stringify(records) },
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

let server: TestRedisServer;

describe("Value and RawValue", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(async () => {
    await tearDownRedis(server);
  });

  test("VAL-01/02: typed round trip; a child process sees the initial values and sets new ones", async () => {
    for (const Cls of [Value, RawValue]) {
      const values = VAL01.map(([code, init]) => new Cls(code, init as never));
      // Passed to the child before any use here: the child seeds the initial values.
      assert.equal(await runChild("val01", values), 0);
      for (const [i, v] of values.entries()) assert.deepEqual(await v.get(), VAL01[i][2], `${Cls.name} '${VAL01[i][0]}'`);
    }
  });

  test("integer typecodes wrap like C through Redis", async () => {
    const i = new RawValue("i", 2 ** 31 - 1);
    assert.equal(await i.get(), 2 ** 31 - 1);
    await i.set(2 ** 31);
    assert.equal(await i.get(), -(2 ** 31));
    const b = new RawValue("B", 255);
    await b.set((await b.get()) + 1);
    assert.equal(await b.get(), 0);
    const sb = new RawValue("b", 127);
    await sb.set(128);
    assert.equal(await sb.get(), -128);
    const H = new RawValue("H");
    await H.set(-1);
    assert.equal(await H.get(), 65535);
    const I = new RawValue("I", -2);
    assert.equal(await I.get(), 2 ** 32 - 2);
    const q = new RawValue("q", 2 ** 40);
    assert.equal(await q.get(), 2n ** 40n);
    await q.set(2n ** 63n);
    assert.equal(await q.get(), -(2n ** 63n));
    const Q = new RawValue("Q", -1n);
    assert.equal(await Q.get(), 2n ** 64n - 1n);
    const l = new RawValue("l", 2n ** 50n + 1n);
    assert.equal(await l.get(), 2n ** 50n + 1n);
  });

  test("'f' rounds to float32, 'd' keeps doubles, 'c' is one byte, 'u' one character", async () => {
    const f = new RawValue("f", 0.1);
    assert.equal(await f.get(), Math.fround(0.1));
    const d = new RawValue("d", 0.1);
    assert.equal(await d.get(), 0.1);
    await d.set(-0);
    assert.ok(Object.is(await d.get(), -0));
    const c = new RawValue("c", "x");
    assert.deepEqual(await c.get(), Uint8Array.of(0x78));
    await c.set(Uint8Array.of(0xff));
    assert.deepEqual(await c.get(), Uint8Array.of(0xff));
    const u = new RawValue("u", "€");
    assert.equal(await u.get(), "€");
    await u.set("😀");
    assert.equal(await u.get(), "😀");
  });

  test("LITH-27: a falsy initial value is kept; the default is zero", async () => {
    const d = new RawValue("d", 0.0);
    assert.equal(await d.get(), 0);
    assert.equal(typeof (await d.get()), "number");
    assert.equal(await new Value("i").get(), 0);
    assert.equal(await new Value("q").get(), 0n);
  });

  test("set refuses values of the wrong kind and keeps the old value", async () => {
    const v = new Value("i", 3);
    await assert.rejects(v.set(1.5), TypeError);
    await assert.rejects(v.set("4" as unknown as number), TypeError);
    const c = new Value("c", "a");
    await assert.rejects(c.set("ab"), RangeError);
    assert.equal(await v.get(), 3);
    assert.throws(() => new Value("i", Number.NaN), TypeError);
  });

  test("VAL-04: a bad typecode is a TypeError 'bad typecode'", () => {
    for (const make of [() => new Value("x" as Typecode, 0), () => new RawValue("x" as Typecode), () => new Value("" as Typecode)]) {
      assert.throws(make, (e: unknown) => e instanceof TypeError && /bad typecode/.test(e.message));
    }
  });

  test("VAL-03: getLock: an RLock by default, the given lock, none with lock: false", async () => {
    const v = new Value("i", 5);
    assert.ok(v.getLock() instanceof RLock);
    assert.equal(v.getLock(), v.getLock());
    assert.ok(new Value("i", 5, {}).getLock() instanceof RLock);
    assert.ok(new Value("i", 5, { lock: true }).getLock() instanceof RLock);
    const lock = new Lock();
    assert.equal(new Value("i", 5, { lock }).getLock(), lock);
    const rlock = new RLock();
    assert.equal(new Value("d", 1, { lock: rlock }).getLock(), rlock);
    const bare = new Value("i", 5, { lock: false });
    assert.throws(() => bare.getLock(), StateError);
    assert.equal(await bare.get(), 5);
    assert.throws(() => new Value("i", 5, { lock: "navalue" as unknown as boolean }), TypeError);
    assert.throws(() => new Value("i", 5, { lock: {} as unknown as boolean }), TypeError);
    assert.equal("getLock" in new RawValue("i", 5), false, "RawValue has no getLock");
  });

  test("two handles of one value see each other's writes", async () => {
    const v = new Value("h", 10);
    const other = handleFromRecord("value", JSON.parse(JSON.stringify(handleRecord(v)))) as Value<"h">;
    assert.ok(other instanceof Value);
    assert.equal(await other.get(), 10);
    await other.set(-7);
    assert.equal(await v.get(), -7);
  });

  test("a Value travels through the codec with its lock, both usable", async () => {
    const v = new Value("d", 2.5);
    const copy = decode(encode({ v })) as { v: Value<"d"> };
    assert.ok(copy.v instanceof Value);
    assert.equal(await copy.v.get(), 2.5);
    await copy.v.set(8.75);
    assert.equal(await v.get(), 8.75);
    const lock = new Lock();
    const withLock = new Value("i", 1, { lock });
    const arrived = decode(encode(withLock)) as Value<"i">;
    const theirLock = arrived.getLock();
    assert.ok(theirLock instanceof Lock);
    assert.equal(await theirLock.acquire(), true);
    assert.equal(await lock.acquire({ block: false }), false, "the copy's lock is the same Redis lock");
    await theirLock.release();
    const raw = decode(encode(new RawValue("B", 9))) as RawValue<"B">;
    assert.ok(raw instanceof RawValue && !(raw instanceof Value));
    assert.equal(await raw.get(), 9);
  });

  test("four processes incrementing a RawValue under a Lock lose nothing", async () => {
    const counter = new RawValue("i", 0);
    const lock = new Lock();
    const codes = await Promise.all([0, 1, 2, 3].map(() => runChild("increment", [counter, lock])));
    assert.deepEqual(codes, [0, 0, 0, 0]);
    assert.equal(await counter.get(), 4 * INCREMENTS);
  });

  test("no value key is left without a TTL", async () => {
    const v = new Value("i", 1);
    await v.set(2);
    await v.getLock().acquire();
    await v.getLock().release();
    assert.ok((await server.keys()).length > 0);
    assert.deepEqual(await server.keysWithoutTtl(), []);
  });
});
