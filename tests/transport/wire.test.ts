import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defineMsg, f64, helloMsg, Kind, packet, PacketReader, resultMsg, taskMsg, text, u32 } from "../../src/transport/wire.ts";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe("wire protocol", () => {
  test("message encoders put their fields where the readers find them", () => {
    const payload = new Uint8Array([9, 8, 7]);
    const t = taskMsg(0xfffffffe, 12345, payload);
    assert.equal(t[0], Kind.TASK);
    assert.equal(u32(t, 1), 0xfffffffe);
    assert.equal(u32(t, 5), 12345);
    assert.deepEqual([...t.subarray(9)], [9, 8, 7]);
    const r = resultMsg(77, 2, 1.25, payload);
    assert.equal(r[0], Kind.RESULT);
    assert.equal(u32(r, 1), 77);
    assert.equal(r[5], 2);
    assert.equal(f64(r, 6), 1.25);
    assert.deepEqual([...r.subarray(14)], [9, 8, 7]);
    const d = defineMsg(3, '{"kind":"source","id":"é"}');
    assert.equal(u32(d, 1), 3);
    assert.equal(text(d, 5), '{"kind":"source","id":"é"}');
    const h = helloMsg(4242, "tok");
    assert.equal(u32(h, 1), 4242);
    assert.equal(text(h, 5), "tok");
  });

  test("a reader reassembles packets from chunks split at every possible byte", () => {
    const msgs1 = [taskMsg(1, 0, new Uint8Array([1, 2, 3])), taskMsg(2, 0, new Uint8Array(0))];
    const msgs2 = [resultMsg(5, 0, 0.5, new Uint8Array(300).fill(7))];
    const stream = concat([...packet(msgs1), ...packet(msgs2)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      for (const step of [1, 3, 64]) {
        const got: Uint8Array[][] = [];
        const reader = new PacketReader((m) => got.push(m.map((x) => x.slice())));
        reader.push(stream.subarray(0, cut));
        for (let i = cut; i < stream.length; i += step) reader.push(stream.subarray(i, Math.min(stream.length, i + step)));
        assert.equal(got.length, 2, `cut ${cut} step ${step}`);
        assert.deepEqual(got[0], msgs1);
        assert.deepEqual(got[1], msgs2);
      }
    }
  });

  test("several packets in one chunk are all delivered, in order", () => {
    const packets = Array.from({ length: 50 }, (_, i) => packet([taskMsg(i, i, new Uint8Array([i]))]));
    const ids: number[] = [];
    new PacketReader((m) => ids.push(...m.map((x) => u32(x, 1)))).push(concat(packets.flat()));
    assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i));
  });

  test("a 20 MiB packet arriving in 64 KiB pieces comes out whole", () => {
    const big = new Uint8Array(20 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4093) big[i] = i & 255;
    const stream = concat(packet([taskMsg(9, 1, big)]));
    let got: Uint8Array | undefined;
    const reader = new PacketReader((m) => (got = m[0]));
    for (let i = 0; i < stream.length; i += 65536) reader.push(stream.subarray(i, i + 65536));
    assert.ok(got);
    assert.equal(got.length, big.length + 9);
    assert.ok(got.subarray(9).every((v, i) => v === big[i]));
  });
});
