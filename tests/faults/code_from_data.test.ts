/**
 * Fault suite, issue 7 defect 2: whoever can write to the Redis but does not
 * hold this program's authkey must not make it run code or connect
 * elsewhere. Each attack writes raw bytes with its own Redis client, as an
 * attacker would, and carries a payload whose only effect is to create a
 * file: the file never appearing (while the same payload, signed, does
 * create one) proves nothing ran.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes, randomInt } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Encoder } from "npm:cbor-x@^1.6.9/encode";
import { createClient } from "npm:redis@^5.8.0";
import { config } from "../../src/config.ts";
import { SerializationError } from "../../src/errors.ts";
import { Barrier } from "../../src/state/barrier.ts";
import { handleRecord, type HandleRecord } from "../../src/state/handle.ts";
import { Queue } from "../../src/state/queue.ts";
import { authkey } from "../../src/task/authkey.ts";
import { encode } from "../../src/task/codec.ts";
import { T_HANDLE, T_MAGIC_V1_PLAIN } from "../../src/task/codec_tags.ts";
import { task } from "../../src/task/function_ref.ts";
import { runChild } from "../helpers/child.ts";
import { startRedisServer, type TestRedisServer } from "../helpers/redis_server.ts";
import { setUpRedis, sleep, tearDownRedis, wire } from "../helpers/state_setup.ts";

let server: TestRedisServer;
let dir: string;

/** A fresh path the payloads may create; nothing else creates it. */
function marker(): string {
  return join(dir, `ran-${randomBytes(6).toString("hex")}`);
}

/** The source of a self-contained function that creates `path` (with this process's pid) when called. */
function fileWriterSource(path: string): string {
  return `async () => { (await import("node:fs")).writeFileSync(${JSON.stringify(path)}, String(globalThis.process.pid)); }`;
}

/** A `data:` module that creates `path` (with the importing process's pid) as soon as it is imported. */
function fileWriterModule(path: string): string {
  const code = `import { writeFileSync } from "node:fs"; import process from "node:process";
writeFileSync(${JSON.stringify(path)}, String(process.pid)); export default () => {};`;
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

/**
 * A skypool message holding one handle, built from the published wire format
 * with a plain CBOR encoder (no skypool code, no key), as an attacker would.
 */
function forgeHandle(kind: string, record: unknown): Uint8Array {
  const body = new Encoder({ useRecords: false }).encode([kind, record]);
  const header = [0xd9, T_MAGIC_V1_PLAIN >> 8, T_MAGIC_V1_PLAIN & 0xff, 0x81, 0xd9, T_HANDLE >> 8, T_HANDLE & 0xff];
  return Uint8Array.from([...header, ...body]);
}

/** RPUSHes raw messages with a separate Redis client of the attacker's. */
async function rawPush(url: string, key: string, ...messages: Uint8Array[]): Promise<void> {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  try {
    for (const m of messages) await client.sendCommand(["RPUSH", key, Buffer.from(m)]);
  } finally {
    client.destroy();
  }
}

/** A queue with one genuine item, and the Redis list behind it as an attacker finds it (by scanning). */
async function victimQueue(): Promise<{ q: Queue; list: string; item: number }> {
  const q = new Queue();
  const item = randomInt(1 << 30);
  await q.put(item);
  const lists = await server.keys(`*{queue:${q.id}}:items`);
  assert.equal(lists.length, 1, "the attacker finds the queue's list");
  return { q, list: lists[0], item };
}

/** A record of `kind` in the victim's namespace with a fresh id: the shape a forger copies. */
function forgedRecord(q: Queue, opts: Record<string, unknown>, extra: Partial<HandleRecord> = {}): HandleRecord {
  const { url, prefix, session } = q.location;
  return { url, prefix, session, id: randomBytes(9).toString("base64url"), opts, ...extra };
}

function refused(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof SerializationError, `expected a SerializationError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  };
}

/** Total connections a server has accepted (this query's own included). */
async function connectionsAccepted(s: TestRedisServer): Promise<number> {
  const info = await s.command<string>(["INFO", "stats"]);
  return Number(/total_connections_received:(\d+)/.exec(info)![1]);
}

describe("code from data: records that carry code or a location need this program's authkey", () => {
  before(async () => {
    server = await setUpRedis();
    dir = mkdtempSync(join(tmpdir(), "skypool-code-from-data-"));
  });
  after(async () => {
    await tearDownRedis(server);
    rmSync(dir, { recursive: true, force: true });
  });

  test("(a) a Barrier with a forged source action, RPUSHed raw into a queue, is refused at get() and never runs", async () => {
    const { q, list, item } = await victimQueue();
    const forged = marker(), tampered = marker(), genuine = marker();
    const action = (path: string) => ({ kind: "source", id: `s:${randomBytes(8).toString("hex")}`, source: fileWriterSource(path) });
    const unsigned = forgedRecord(q, { parties: 1, timeout: null, action: action(forged) });
    const badMac = { ...unsigned, mac: randomBytes(32).toString("base64url") };
    // A genuine record with only its action swapped keeps a MAC that no longer matches.
    const real = handleRecord(new Barrier(1, { action: new Function(`return (${fileWriterSource(genuine)})`)() as () => Promise<void> }));
    const swapped = { ...real, opts: { ...real.opts, action: action(tampered) } };
    await rawPush(server.url, list, forgeHandle("barrier", unsigned), forgeHandle("barrier", badMac), forgeHandle("barrier", swapped));

    assert.equal(await q.get(), item, "genuine data still flows");
    await assert.rejects(q.get(), refused(/^refused a barrier handle: it carries no authkey signature/));
    await assert.rejects(q.get(), refused(/^refused a barrier handle: its authkey signature does not match/));
    await assert.rejects(q.get(), refused(/^refused a barrier handle: its authkey signature does not match/));
    assert.equal(await q.qsize(), 0);
    assert.equal(existsSync(forged), false, "the unsigned action did not run");
    assert.equal(existsSync(tampered), false, "the swapped action did not run");

    // The same bytes with the record as signed here do run: it is the MAC that stopped them.
    await rawPush(server.url, list, forgeHandle("barrier", real));
    const b = await q.get() as Barrier;
    assert.equal(await b.wait(), 0);
    assert.equal(readFileSync(genuine, "utf8"), String(process.pid));
  });

  test("(b) a forged data: module action is refused and never imported", async () => {
    const { q, list, item } = await victimQueue();
    const forged = marker(), tampered = marker(), genuine = marker();
    const moduleAction = (path: string) => ({ kind: "module", id: `m:${randomBytes(8).toString("hex")}`, url: fileWriterModule(path), exportName: "default" });
    const parties = randomInt(1, 5);
    const unsigned = forgedRecord(q, { parties, timeout: null, action: moduleAction(forged) });
    const real = handleRecord(new Barrier(1, { action: task(fileWriterModule(genuine)) }));
    const swapped = { ...real, opts: { ...real.opts, action: moduleAction(tampered) } };
    await rawPush(server.url, list, forgeHandle("barrier", unsigned), forgeHandle("barrier", swapped));

    assert.equal(await q.get(), item);
    await assert.rejects(q.get(), refused(/^refused a barrier handle: it carries no authkey signature/));
    await assert.rejects(q.get(), refused(/^refused a barrier handle: its authkey signature does not match/));
    assert.equal(existsSync(forged), false, "the forged module was not imported");
    assert.equal(existsSync(tampered), false, "the swapped module was not imported");

    await rawPush(server.url, list, forgeHandle("barrier", real));
    assert.equal(await (await q.get() as Barrier).wait(), 0);
    assert.equal(readFileSync(genuine, "utf8"), String(process.pid), "signed, the same kind of action runs");
  });

  test("(c) a Queue handle pointing at another Redis is refused: the victim never connects there", async () => {
    const attacker = await startRedisServer();
    try {
      const { q, list } = await victimQueue();
      await q.get();
      const acceptedBefore = await connectionsAccepted(attacker);
      const unsigned = forgedRecord(q, { maxsize: 0, joinable: false }, { url: attacker.url });
      const real = handleRecord(new Queue());
      const moved = { ...real, url: attacker.url };
      const otherSession = { ...real, session: randomBytes(6).toString("hex") };
      await rawPush(server.url, list, forgeHandle("queue", unsigned), forgeHandle("queue", moved), forgeHandle("queue", otherSession));

      await assert.rejects(q.get(), refused(/^refused a queue handle: it carries no authkey signature/));
      await assert.rejects(q.get(), refused(/^refused a queue handle: its authkey signature does not match/));
      await assert.rejects(q.get(), refused(/^refused a queue handle: its authkey signature does not match/), "the session is signed too");
      assert.equal(await connectionsAccepted(attacker), acceptedBefore + 1, "only this inspection connected to the attacker's server");
      assert.deepEqual(await attacker.keys(), [], "nothing was written there");
    } finally {
      await attacker.stop();
    }
  });

  test("(d) a Barrier signed with another key is refused and its action never runs", async () => {
    const { q, list, item } = await victimQueue();
    const ours = authkey();
    const forged = marker();
    const otherKey = randomBytes(randomInt(16, 40)).toString("base64url");
    config.set({ authkey: otherKey });
    let bytes: Uint8Array;
    try {
      bytes = encode(new Barrier(1, { action: task(fileWriterModule(forged)) }));
    } finally {
      config.set({ authkey: ours });
    }
    await rawPush(server.url, list, bytes);
    assert.equal(await q.get(), item);
    await assert.rejects(q.get(), refused(/^refused a barrier handle: its authkey signature does not match/));
    assert.equal(existsSync(forged), false);
  });

  test("(e) a genuine Barrier passed through a Queue to another process of this program runs its action there; a process with another key refuses the queue", async () => {
    const q = new Queue<Barrier>();
    const ran = marker();
    const b = new Barrier(2, { action: task(fileWriterModule(ran)) });
    const stranger = runChild("queue-barrier", { queue: wire(q) }, { SKYPOOL_AUTHKEY: randomBytes(24).toString("base64url") });
    assert.match(
      await stranger.waitForLine(/^error /),
      /^error SerializationError: refused a queue handle: its authkey signature does not match/,
    );
    await stranger.exited;

    await q.put(b);
    const mine = b.wait(20_000);
    for (const t0 = Date.now(); await b.nWaiting() < 1; await sleep(20)) {
      assert.ok(Date.now() - t0 < 20_000, "this process's wait() registers within 20 s");
    }
    // This process waits first, so the child is the party that completes the barrier and runs the action.
    const child = runChild("queue-barrier", { queue: wire(q) });
    try {
      assert.match(await child.waitForLine(/^(index|error) /), /^index \d$/);
      assert.equal(typeof await mine, "number");
      assert.equal(readFileSync(ran, "utf8"), String(child.proc.pid), "the action ran in the child");
    } finally {
      await child.kill();
    }
  });
});
