import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { Connection, Pipe } from "../../src/state/pipe.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import { handleFromRecord, handleRecord, type HandleRecord } from "../../src/state/handle.ts";
import { config } from "../../src/config.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { EOFError, SerializationError, SkypoolError, StateError } from "../../src/errors.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";
import { setUpRedis, sleep as delay, tearDownRedis, timed } from "../helpers/state_setup.ts";
import { authkeyEnvironment } from "../../src/task/authkey.ts";

// ---------------------------------------------------------------------------
// Child-process mode: this file re-runs itself as the far end of a pipe.

const CHILD_ROLE = process.env.SKYPOOL_PIPE_TEST_CHILD;
if (CHILD_ROLE !== undefined) {
  const conn = handleFromRecord("pipe", JSON.parse(process.env.SKYPOOL_PIPE_TEST_RECORD!)) as Connection;
  if (CHILD_ROLE === "echo") {
    // Echoes byte messages until an empty one, then closes its end.
    for (;;) {
      const msg = await conn.recvBytes();
      if (msg.length === 0) break;
      await conn.sendBytes(msg);
    }
  } else if (CHILD_ROLE === "strings") {
    for (const s of ["hello", "", "a", "b", "", "bye", "", "lop"]) {
      await conn.sendBytes(new TextEncoder().encode(s));
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await conn.close();
  await closeAllConnections();
  process.exit(0);
}

/** The record of an end, through JSON as a child process gets it. Like the codec, it marks the end as passed on. */
function recordOf(c: Connection): HandleRecord {
  return JSON.parse(JSON.stringify(handleRecord(c)));
}

/** Another handle of the same end (the original then leaves end-of-file to the copies). */
function copyOf(c: Connection): Connection {
  return handleFromRecord("pipe", recordOf(c)) as Connection;
}

function runChild(role: string, end: Connection): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, args] = deno ? [deno.execPath(), ["run", "-A", self]] : [process.execPath, [self]];
  const child = spawn(cmd, args, {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, ...authkeyEnvironment(), SKYPOOL_PIPE_TEST_CHILD: role, SKYPOOL_PIPE_TEST_RECORD: JSON.stringify(recordOf(end)) },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child ${role} timed out`));
    }, 60_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

let server: TestRedisServer;

describe("Pipe", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(async () => {
    await tearDownRedis(server);
  });

  test("CONN-01/02/03/05/07: against an echo process: objects, bytes, recvBytesInto, poll and EOF", async () => {
    const [conn, childConn] = Pipe();
    const child = runChild("echo", childConn);

    assert.equal(await conn.send([3, 4.5, null]), undefined);
    assert.deepEqual(await conn.recv(), [3, 4.5, null]);

    await conn.sendBytes(bytes("good morning"));
    assert.equal(text(await conn.recvBytes()), "good morning");

    const ints = Int32Array.of(5, 6, 7, 8);
    await conn.sendBytes(ints);
    const into = new Int32Array(8);
    assert.equal(await conn.recvBytesInto(into), 16);
    assert.deepEqual([...into], [5, 6, 7, 8, 0, 0, 0, 0]);
    await conn.sendBytes(ints);
    const into2 = new Int32Array(8);
    assert.equal(await conn.recvBytesInto(into2, 2 * Int32Array.BYTES_PER_ELEMENT), 16);
    assert.deepEqual([...into2], [0, 0, 5, 6, 7, 8, 0, 0]);

    const long = bytes("0123456789".repeat(12));
    await conn.sendBytes(long);
    await assert.rejects(conn.recvBytesInto(new Uint8Array(50)), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.deepEqual((e as RangeError & { data: Uint8Array }).data, long);
      return true;
    });

    assert.equal(await conn.poll(), false);
    let r = await timed(() => conn.poll(-1));
    assert.equal(r.value, false);
    assert.ok(r.ms < 1500, `poll(-1) took ${r.ms} ms`);
    r = await timed(() => conn.poll(150));
    assert.equal(r.value, false);
    assert.ok(r.ms >= 50, `poll(150) returned after ${r.ms} ms`);
    assert.ok(r.ms < 2150, `poll(150) took ${r.ms} ms`);
    await conn.send(null);
    await delay(100);
    r = await timed(() => conn.poll(150));
    assert.equal(r.value, true);
    assert.equal(await conn.recv(), null);

    await conn.sendBytes(new Uint8Array(0)); // tells the echo child to stop; it closes its end
    assert.equal(await child, 0);
    assert.equal(conn.readable, true);
    assert.equal(conn.writable, true);
    assert.equal(await conn.poll(), true, "end-of-file counts as readable");
    await assert.rejects(conn.recv(), EOFError);
    await assert.rejects(conn.recvBytes(), EOFError);
    await assert.rejects(conn.recvBytes(100), EOFError);
    await assert.rejects(conn.send("too late"), StateError);
    await conn.close();
  });

  test("CONN-06: a 16 MiB message arrives intact", async () => {
    const [a, b] = Pipe();
    const big = new Uint8Array(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4093) big[i] = i & 0xff;
    big.fill(0x58, 0, 1024);
    await a.sendBytes(big);
    const got = await b.recvBytes();
    assert.equal(got.length, big.length);
    assert.ok(Buffer.compare(Buffer.from(got), Buffer.from(big)) === 0, "16 MiB message differs");
    await a.close();
    await b.close();
  });

  test("CONN-07: messages sent before close are read first, then EOFError every time", async () => {
    const [a, b] = Pipe();
    await b.send("one");
    await b.sendBytes(bytes("two"));
    await b.close();
    assert.equal(await a.recv(), "one");
    assert.equal(text(await a.recvBytes()), "two");
    for (let i = 0; i < 3; i++) await assert.rejects(a.recvBytes(), EOFError);
    // Another handle of the same end sees the end-of-file as well.
    await assert.rejects(copyOf(a).recv(), EOFError);
    await a.close();
  });

  test("a blocked recv wakes on a send, and on the peer's close", async () => {
    const [a, b] = Pipe();
    const waiting = timed(() => a.recv());
    await delay(150);
    await b.send({ late: true });
    const r = await waiting;
    assert.deepEqual(r.value, { late: true });
    assert.ok(r.ms >= 100, `recv returned after ${r.ms} ms`);
    const eof = timed(() => a.recv());
    await delay(100);
    await b.close();
    assert.ok((await eof).error instanceof EOFError);
    await a.close();
  });

  test("a waiting poll wakes on a send without taking the message", async () => {
    const [a, b] = Pipe();
    const waiting = timed(() => a.poll(10_000));
    await delay(150);
    await b.sendBytes(bytes("x"));
    const r = await waiting;
    assert.equal(r.value, true);
    assert.ok(r.ms >= 100 && r.ms < 5000, `poll woke after ${r.ms} ms`);
    assert.equal(await a.poll(), true);
    assert.equal(text(await a.recvBytes()), "x");
    assert.equal(await a.poll(), false);
  });

  test("CONN-08/LITH-20: a one-way pipe refuses the wrong direction", async () => {
    const [reader, writer] = Pipe(false);
    await writer.send(1);
    assert.equal(await reader.recv(), 1);
    assert.equal(reader.readable, true);
    assert.equal(reader.writable, false);
    assert.equal(writer.readable, false);
    assert.equal(writer.writable, true);
    await assert.rejects(reader.send(2), (e: unknown) => e instanceof StateError && /read-only/.test(e.message));
    await assert.rejects(reader.sendBytes(bytes("x")), StateError);
    await assert.rejects(writer.recv(), (e: unknown) => e instanceof StateError && /write-only/.test(e.message));
    await assert.rejects(writer.poll(), StateError);
    await assert.rejects(writer.recvBytesInto(new Uint8Array(4)), StateError);
    await writer.close();
    await assert.rejects(reader.recv(), EOFError);
  });

  test("a duplex pipe carries messages both ways independently", async () => {
    const [a, b] = Pipe();
    await a.send("a->b 1");
    await b.send("b->a 1");
    await a.send("a->b 2");
    assert.equal(await b.recv(), "a->b 1");
    assert.equal(await b.recv(), "a->b 2");
    assert.equal(await a.recv(), "b->a 1");
    assert.equal(await a.poll(), false);
    assert.equal(await b.poll(), false);
  });

  test("CONN-10/LITH-21: sendBytes offset and size", async () => {
    const [a, b] = Pipe();
    const msg = bytes("abcdefghijklmnopqrstuvwxyz");
    await a.sendBytes(msg, 5);
    assert.equal(text(await b.recvBytes()), "fghijklmnopqrstuvwxyz");
    await a.sendBytes(msg, 7, 8);
    assert.equal(text(await b.recvBytes()), "hijklmno");
    await a.sendBytes(msg, 26);
    assert.equal(text(await b.recvBytes()), "");
    await a.sendBytes(msg, 26, 0);
    assert.equal(text(await b.recvBytes()), "");
    await a.sendBytes(bytes("0123456789"), 2, 3);
    assert.equal(text(await b.recvBytes()), "234");
    const cases: [number, number | undefined, RegExp][] = [
      [27, undefined, /buffer length < offset/],
      [22, 5, /buffer length < offset \+ size/],
      [26, 1, /buffer length < offset \+ size/],
      [-1, undefined, /offset is negative/],
      [4, -1, /size is negative/],
    ];
    for (const [offset, size, re] of cases) {
      await assert.rejects(a.sendBytes(msg, offset, size), (e: unknown) => e instanceof RangeError && re.test(e.message));
    }
    assert.equal(await b.poll(), false, "a refused send must send nothing");
    await assert.rejects(a.sendBytes("text" as unknown as Uint8Array), TypeError);
    await assert.rejects(a.sendBytes(msg, 1.5), RangeError);
    // Typed arrays and ArrayBuffers count in bytes.
    await a.sendBytes(Uint16Array.of(0x4241, 0x4443), 2);
    assert.equal(text(await b.recvBytes()), "CD");
    await a.sendBytes(bytes("xyz").buffer);
    assert.equal(text(await b.recvBytes()), "xyz");
  });

  test("recvBytes with maxlength: a longer message is a RangeError and stays in the pipe", async () => {
    const [a, b] = Pipe();
    await a.sendBytes(bytes("twelve bytes"));
    await assert.rejects(b.recvBytes(5), (e: unknown) => e instanceof RangeError && /12 bytes/.test(e.message));
    assert.equal(text(await b.recvBytes(12)), "twelve bytes");
    await assert.rejects(b.recvBytes(-1), RangeError);
    const pending = b.recvBytes(3);
    await delay(50);
    await a.sendBytes(bytes("abc"));
    assert.equal(text(await pending), "abc");
  });

  test("recvBytesInto validates its offset", async () => {
    const [a, b] = Pipe();
    await assert.rejects(b.recvBytesInto(new Uint8Array(4), -1), RangeError);
    await assert.rejects(b.recvBytesInto(new Uint8Array(4), 5), RangeError);
    await assert.rejects(b.recvBytesInto([1, 2] as unknown as Uint8Array), TypeError);
    await a.sendBytes(bytes("ok"));
    const buf = new Uint8Array(2);
    assert.equal(await b.recvBytesInto(buf), 2);
    await a.sendBytes(new Uint8Array(0));
    assert.equal(await b.recvBytesInto(buf, 2), 0, "an empty message fits at the very end");
  });

  test("POLL-01: poll does not consume, and an empty message is a message", async () => {
    const [a, b] = Pipe();
    assert.equal(await a.poll(), false);
    await b.sendBytes(new Uint8Array(0));
    assert.equal(await a.poll(), true);
    assert.equal(await a.poll(), true);
    assert.equal((await a.recvBytes()).length, 0);
    assert.equal(await a.poll(), false);
  });

  test("POLL-02: strings from another process, empty ones included, each exactly", async () => {
    const [a, b] = Pipe();
    const child = runChild("strings", b);
    const got: string[] = [];
    for (let i = 0; i < 400 && got.length < 8; i++) {
      if (await a.poll(50)) got.push(text(await a.recvBytes()));
    }
    assert.equal(await child, 0);
    assert.deepEqual(got, ["hello", "", "a", "b", "", "bye", "", "lop"]);
    await assert.rejects(a.recvBytes(), EOFError);
  });

  test("POLL-03: a poll on another handle while messages are written takes nothing apart", async () => {
    const [r, w] = Pipe(false);
    const polling = copyOf(r).poll(5000);
    await w.sendBytes(bytes("first"));
    await w.sendBytes(bytes("second"));
    await w.close();
    assert.equal(await polling, true);
    assert.equal(text(await r.recvBytes()), "first");
    assert.equal(text(await r.recvBytes()), "second");
  });

  test("POLL-04: message boundaries are kept, nothing is merged", async () => {
    const [a, b] = Pipe();
    assert.equal(await a.poll(0), false);
    assert.equal(await a.poll(100), false);
    for (const s of ["a", "b", "cd"]) await b.sendBytes(bytes(s));
    assert.equal(text(await a.recvBytes()), "a");
    assert.equal(await a.poll(1000), true);
    assert.equal(await a.poll(1000), true);
    assert.equal(text(await a.recvBytes()), "b");
    assert.equal(await a.poll(1000), true);
    assert.equal(await a.poll(0), true);
    assert.equal(text(await a.recvBytes()), "cd");
  });

  test("CONN-11/LITH-22: a closed end refuses every call; closing is idempotent and leaves other pipes working", async () => {
    const [x, y] = Pipe();
    {
      await using a = x;
      await using b = y;
      await a.send(1729);
      assert.equal(await b.recv(), 1729);
      assert.equal(a.closed, false);
    }
    assert.equal(x.closed, true);
    assert.equal(y.closed, true);
    await assert.rejects(x.recv(), (e: unknown) => e instanceof StateError && /closed/.test(e.message));
    await assert.rejects(y.send("x"), StateError);
    await assert.rejects(y.poll(), StateError);
    await x.close();
    const [c, d] = Pipe();
    await c.send("still fine");
    assert.equal(await d.recv(), "still fine");
  });

  test("sending to an end that was closed is a StateError", async () => {
    const [a, b] = Pipe();
    await b.close();
    await assert.rejects(a.send("nobody listens"), (e: unknown) => e instanceof StateError && /other end/.test(e.message));
  });

  test("send refuses a value the codec cannot encode, and sends nothing", async () => {
    const [a, b] = Pipe();
    await assert.rejects(a.send({ f: () => 0 }), SerializationError);
    assert.equal(await b.poll(), false);
  });

  test("CONN-09: closing the parent's copy of an end given to a child process does not break the child", async () => {
    const [conn, childConn] = Pipe();
    const child = runChild("echo", childConn);
    await childConn.close(); // only this handle: the child's copy is the one that counts
    await conn.sendBytes(bytes("still echoed"));
    assert.equal(text(await conn.recvBytes()), "still echoed");
    await conn.sendBytes(new Uint8Array(0));
    assert.equal(await child, 0);
    await assert.rejects(conn.recvBytes(), EOFError);
  });

  test("CONN-09 through the codec: an end passed on leaves EOF to its copy", async () => {
    const [parentEnd, childEnd] = Pipe();
    const shipped = decode(encode(childEnd)) as Connection;
    assert.ok(shipped instanceof Connection);
    await childEnd.close(); // the parent's copy: local only
    await shipped.send("from the copy");
    assert.equal(await parentEnd.recv(), "from the copy");
    await shipped.close();
    await assert.rejects(parentEnd.recv(), EOFError);
  });

  test("Connection is not constructed directly; duplex must be a boolean", () => {
    assert.throws(() => new Connection(), TypeError);
    assert.throws(() => Pipe("yes" as unknown as boolean), TypeError);
  });

  test("pipeConnectionType 'redisstream' is refused with a clear error", () => {
    config.set({ pipeConnectionType: "redisstream" });
    try {
      assert.throws(() => Pipe(), (e: unknown) => e instanceof SkypoolError && /redisstream/.test(e.message));
    } finally {
      config.set({ pipeConnectionType: "redislist" });
    }
  });

  test("no pipe key is left without a TTL", async () => {
    const [a, b] = Pipe();
    await a.send(1);
    await b.send(2);
    await b.recv();
    await a.poll(50);
    await b.close();
    const [r, w] = Pipe(false);
    await w.send("x");
    await r.close();
    assert.deepEqual(await server.keysWithoutTtl(), []);
    assert.ok((await server.keys()).length > 0);
  });
});
