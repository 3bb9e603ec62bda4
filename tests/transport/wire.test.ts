import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { packFrames } from "../../src/task/frames.ts";
import { SerializationError } from "../../src/errors.ts";
import { helloBytes, HelloReader } from "../../src/transport/handshake.ts";
import {
  defineMsg,
  f64,
  idsMsg,
  Kind,
  type Msg,
  packet,
  packMessages,
  PacketReader,
  readIds,
  resultMsg,
  statusMsg,
  taskMsg,
  text,
  u32,
} from "../../src/transport/wire.ts";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Frames as plain arrays of bytes, for deepEqual across views. */
function plain(frames: readonly Uint8Array[]): number[][] {
  return frames.map((f) => [...f]);
}

describe("wire protocol", () => {
  test("message encoders put their fields where the readers find them", () => {
    const payload = new Uint8Array([9, 8, 7]);
    const [t, tb] = taskMsg(0xfffffffe, 12345, payload);
    assert.equal(t[0], Kind.TASK);
    assert.equal(u32(t, 1), 0xfffffffe);
    assert.equal(u32(t, 5), 12345);
    assert.equal(tb, payload, "the payload is not copied into the message");
    assert.equal(taskMsg(1, 2, payload, true)[0][0], Kind.TASK_EACH);
    const [r, rb] = resultMsg(77, 2, 1.25, payload);
    assert.equal(r[0], Kind.RESULT);
    assert.equal(u32(r, 1), 77);
    assert.equal(r[5], 2);
    assert.equal(f64(r, 6), 1.25);
    assert.equal(rb, payload);
    const [d, db] = defineMsg(3, '{"kind":"source","id":"é"}');
    assert.equal(d[0], Kind.DEFINE);
    assert.equal(u32(d, 1), 3);
    assert.equal(text(db), '{"kind":"source","id":"é"}');
    const [c] = idsMsg(Kind.CANCEL, [5, 0xffffffff, 0]);
    assert.deepEqual(readIds(c), [5, 0xffffffff, 0]);
    const [s, sb] = statusMsg(Kind.DONE, 1, payload);
    assert.deepEqual([s[0], s[1]], [Kind.DONE, 1]);
    assert.equal(sb, payload);
  });

  test("a packet is exactly a frames batch of heads and bodies (self-delimiting, one write)", () => {
    const msgs: Msg[] = [taskMsg(1, 0, new Uint8Array([1, 2, 3])), defineMsg(0, "{}")];
    const p = packMessages(msgs);
    assert.deepEqual([...p], [...packFrames(msgs.flat())]);
    assert.deepEqual([...packet(msgs.flat())], [...p]);
    assert.equal(u32(p, 12), p.length, "the batch header declares the packet's length");
  });

  test("a reader reassembles packets from chunks split at every possible byte", () => {
    const msgs1: Msg[] = [taskMsg(1, 0, new Uint8Array([1, 2, 3])), taskMsg(2, 0, new Uint8Array(0))];
    const msgs2: Msg[] = [resultMsg(5, 0, 0.5, new Uint8Array(300).fill(7))];
    const stream = concat([packMessages(msgs1), packMessages(msgs2)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      for (const step of [1, 3, 23, 64]) {
        const got: number[][][] = [];
        const reader = new PacketReader((f) => got.push(plain(f)));
        reader.push(stream.subarray(0, cut));
        for (let i = cut; i < stream.length; i += step) reader.push(stream.subarray(i, Math.min(stream.length, i + step)));
        assert.equal(got.length, 2, `cut ${cut} step ${step}`);
        assert.deepEqual(got[0], plain(msgs1.flat()));
        assert.deepEqual(got[1], plain(msgs2.flat()));
      }
    }
  });

  test("several packets in one chunk are all delivered, in order", () => {
    const packets = Array.from({ length: 50 }, (_, i) => packMessages([taskMsg(i, i, new Uint8Array([i]))]));
    const ids: number[] = [];
    new PacketReader((f) => ids.push(u32(f[0], 1))).push(concat(packets));
    assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i));
  });

  test("a 20 MiB packet arriving in 64 KiB pieces comes out whole", () => {
    const big = new Uint8Array(20 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4093) big[i] = i & 255;
    const stream = packMessages([taskMsg(9, 1, big)]);
    let got: Uint8Array[] | undefined;
    const reader = new PacketReader((f) => (got = f));
    for (let i = 0; i < stream.length; i += 65536) reader.push(stream.subarray(i, i + 65536));
    assert.ok(got);
    assert.equal(u32(got[0], 1), 9);
    assert.equal(got[1].length, big.length);
    assert.ok(got[1].every((v, i) => v === big[i]));
  });

  test("bytes that are not packets, or a corrupted packet, are reported once and the rest ignored", () => {
    const errors: Error[] = [];
    let delivered = 0;
    const junk = new PacketReader(() => delivered++, (e) => errors.push(e));
    junk.push(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    junk.push(packMessages([quitLike()]));
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof SerializationError);
    assert.match(errors[0].message, /expected a packet/);
    assert.equal(delivered, 0);

    const bad = packMessages([taskMsg(1, 0, new Uint8Array(100).fill(3))]);
    bad[bad.length - 1] ^= 0xff; // flip payload bits: the body checksum fails
    const errors2: Error[] = [];
    new PacketReader(() => delivered++, (e) => errors2.push(e)).push(bad);
    assert.equal(errors2.length, 1);
    assert.match(errors2[0].message, /corrupted/);
    assert.equal(delivered, 0);
  });
});

function quitLike(): Msg {
  return [new Uint8Array([Kind.QUIT]), new Uint8Array(0)];
}

describe("worker handshake", () => {
  test("round-trips pid and token, split anywhere, and hands over what follows", () => {
    const after = packMessages([resultMsg(1, 0, 0, new Uint8Array([4]))]);
    const stream = concat([helloBytes(0xfedcba98, "123.4.abcdef"), after]);
    for (let cut = 1; cut < stream.length; cut++) {
      const r = new HelloReader();
      let h = r.push(stream.subarray(0, cut));
      let rest: Uint8Array;
      if (h) rest = concat([h.rest, stream.subarray(cut)]);
      else {
        h = r.push(stream.subarray(cut));
        assert.ok(h, `cut ${cut}`);
        rest = h.rest;
      }
      assert.equal(h.pid, 0xfedcba98);
      assert.equal(h.token, "123.4.abcdef");
      assert.deepEqual([...rest], [...after], `cut ${cut}`);
    }
  });

  test("the bytes after the handshake are exactly the stream's remainder", () => {
    const hello = helloBytes(7, "tok");
    const after = new Uint8Array([1, 2, 3, 4, 5]);
    const h = new HelloReader().push(concat([hello, after]));
    assert.ok(h);
    assert.deepEqual([...h.rest], [1, 2, 3, 4, 5]);
    const r = new HelloReader();
    assert.equal(r.push(hello.subarray(0, 5)), undefined);
    const h2 = r.push(concat([hello.subarray(5), after.subarray(0, 2)]));
    assert.ok(h2);
    assert.deepEqual([...h2.rest], [1, 2]);
  });

  test("anything else is refused", () => {
    assert.throws(() => new HelloReader().push(new TextEncoder().encode("hello")), TypeError);
    const long = helloBytes(1, "x".repeat(300));
    assert.throws(() => new HelloReader().push(long), /token too long/);
  });
});
