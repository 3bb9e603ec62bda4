import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4.3.0";
import { frameCount, packFrames, sliceFrames, unpackFrames } from "../../src/task/frames.ts";
import { crc32c } from "../../src/task/checksum.ts";
import { SerializationError } from "../../src/errors.ts";

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const text = (s: string) => new TextEncoder().encode(s);

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function assertItems(actual: Uint8Array[], expected: readonly Uint8Array[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(actual[i] instanceof Uint8Array);
    assert.deepEqual(Array.from(actual[i]), Array.from(expected[i]), `item ${i}`);
  }
}

const itemsArb = fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 });

describe("packFrames / unpackFrames", () => {
  test("round-trips zero items", () => {
    const batch = packFrames([]);
    assert.equal(batch.length, 24);
    assert.equal(frameCount(batch), 0);
    assert.deepEqual(unpackFrames(batch), []);
  });

  test("round-trips empty items, alone and between others", () => {
    const items = [bytes(), bytes(1), bytes(), bytes(), bytes(2, 3), bytes()];
    const batch = packFrames(items);
    assert.equal(frameCount(batch), 6);
    assertItems(unpackFrames(batch), items);
    assertItems(unpackFrames(packFrames([bytes()])), [bytes()]);
  });

  test("round-trips many items", () => {
    const items = Array.from({ length: 5000 }, (_, i) => pattern(i % 97, i));
    const out = unpackFrames(packFrames(items));
    assertItems(out, items);
  });

  test("round-trips a 16 MiB item next to small ones", () => {
    const big = pattern(16 << 20, 42);
    const items = [text("head"), big, text("tail")];
    const batch = packFrames(items);
    assert.equal(batch.length, 24 + 3 * 4 + 8 + (16 << 20));
    const out = unpackFrames(batch);
    assert.equal(out.length, 3);
    assert.equal(out[1].length, big.length);
    assert.equal(crc32c(out[1]), crc32c(big));
    assert.equal(new TextDecoder().decode(out[2]), "tail");
  });

  test("random item lists round-trip and frameCount reports their number", () => {
    fc.assert(
      fc.property(itemsArb, (items) => {
        const batch = packFrames(items);
        assert.equal(frameCount(batch), items.length);
        assertItems(unpackFrames(batch), items);
      }),
      { numRuns: 300 },
    );
  });

  test("unpacked items are views into the batch, not copies", () => {
    const batch = packFrames([text("abc"), text("de")]);
    const [a, b] = unpackFrames(batch);
    assert.equal(a.buffer, batch.buffer);
    assert.equal(b.buffer, batch.buffer);
    batch[batch.length - 1] = 0x21; // the last payload byte is the last byte of "de"
    assert.equal(b[1], 0x21);
  });

  test("a batch that is a view inside a larger buffer unpacks (byteOffset is honoured)", () => {
    const items = [text("alpha"), text(""), text("gamma")];
    const batch = packFrames(items);
    const carrier = new Uint8Array(batch.length + 13);
    carrier.set(batch, 7);
    const view = carrier.subarray(7, 7 + batch.length);
    assert.equal(frameCount(view), 3);
    assertItems(unpackFrames(view), items);
    assertItems(unpackFrames(sliceFrames(view, 1, 3)), items.slice(1));
  });

  test("packing does not retain or alter the input items", () => {
    const items = [text("one"), text("two")];
    const batch = packFrames(items);
    items[0][0] = 0x4f;
    assert.equal(new TextDecoder().decode(unpackFrames(batch)[0]), "one");
  });

  test("the header has the documented layout (magic, version, count, length, checksums)", () => {
    const items = [text("hi"), text("there")];
    const batch = packFrames(items);
    const dv = new DataView(batch.buffer, batch.byteOffset, batch.length);
    assert.equal(new TextDecoder().decode(batch.subarray(0, 4)), "SKPB");
    assert.deepEqual(Array.from(batch.subarray(4, 8)), [1, 0, 0, 0]);
    assert.equal(dv.getUint32(8, true), 2);
    assert.equal(dv.getUint32(12, true), batch.length);
    assert.equal(dv.getUint32(16, true), crc32c(batch.subarray(24)));
    assert.equal(dv.getUint32(20, true), crc32c(batch.subarray(0, 20)));
    assert.equal(dv.getUint32(24, true), 2);
    assert.equal(dv.getUint32(28, true), 7);
    assert.equal(new TextDecoder().decode(batch.subarray(32)), "hithere");
  });

  test("rejects non-arrays and non-Uint8Array items with TypeError", () => {
    assert.throws(() => packFrames("ab" as unknown as Uint8Array[]), TypeError);
    assert.throws(() => packFrames([bytes(1), [2] as unknown as Uint8Array]), /items\[1\] must be a Uint8Array/);
    assert.throws(() => unpackFrames([1, 2] as unknown as Uint8Array), TypeError);
    assert.throws(() => frameCount(null as unknown as Uint8Array), TypeError);
  });
});

describe("corrupted batches", () => {
  const items = [text("first item"), bytes(), pattern(40, 9), text("x")];
  const good = packFrames(items);

  test("flipping any bit of any byte is a SerializationError", () => {
    for (let i = 0; i < good.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = good.slice();
        bad[i] ^= 1 << bit;
        assert.throws(() => unpackFrames(bad), SerializationError, `byte ${i} bit ${bit}`);
      }
    }
  });

  test("truncating at any length, or appending bytes, is a SerializationError", () => {
    for (let n = 0; n < good.length; n++) {
      assert.throws(() => unpackFrames(good.subarray(0, n)), SerializationError, `length ${n}`);
      assert.throws(() => frameCount(good.subarray(0, n)), SerializationError, `length ${n}`);
      assert.throws(() => sliceFrames(good.subarray(0, n), 0, 0), SerializationError, `length ${n}`);
    }
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    assert.throws(() => unpackFrames(longer), /1 bytes beyond/);
  });

  test("messages say what is wrong", () => {
    assert.throws(() => unpackFrames(good.subarray(0, 10)), /too short: 10 bytes/);
    assert.throws(() => unpackFrames(good.subarray(0, good.length - 3)), /truncated: header declares \d+ bytes, got \d+/);
    const magic = good.slice();
    magic[0] = 0x50;
    assert.throws(() => unpackFrames(magic), /not a skypool batch: magic bytes are 50 4b 50 42/);
    const version = good.slice();
    version[4] = 2;
    assert.throws(() => frameCount(version), /unsupported batch format version 2/);
    const header = good.slice();
    header[9] ^= 1;
    assert.throws(() => frameCount(header), /header corrupted: header checksum/);
    const body = good.slice();
    body[body.length - 1] ^= 0x80;
    assert.throws(() => unpackFrames(body), (e: unknown) => e instanceof SerializationError && /body corrupted/.test(e.message));
    assert.equal(frameCount(body), items.length, "frameCount reads only the verified header");
  });

  test("random corruption of random batches is a SerializationError", () => {
    fc.assert(
      fc.property(
        itemsArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (items, at, xor) => {
          const bad = packFrames(items);
          bad[at % bad.length] ^= xor;
          assert.throws(() => unpackFrames(bad), SerializationError);
          assert.throws(() => sliceFrames(bad, 0, 0), SerializationError);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("random truncation of random batches is a SerializationError", () => {
    fc.assert(
      fc.property(itemsArb, fc.nat(), (items, cut) => {
        const batch = packFrames(items);
        assert.throws(() => unpackFrames(batch.subarray(0, cut % batch.length)), SerializationError);
      }),
      { numRuns: 300 },
    );
  });

  test("bytes that are not a batch at all are a SerializationError", () => {
    assert.throws(() => unpackFrames(new Uint8Array(0)), SerializationError);
    assert.throws(() => unpackFrames(text("this is plainly not a skypool batch")), SerializationError);
    assert.throws(() => unpackFrames(new Uint8Array(4096)), SerializationError);
  });
});

describe("sliceFrames", () => {
  test("equals packing the unpacked sub-range, byte for byte", () => {
    fc.assert(
      fc.property(itemsArb, fc.nat(), fc.nat(), (items, a, b) => {
        const batch = packFrames(items);
        const n = items.length + 1;
        const [start, end] = [a % n, b % n].sort((x, y) => x - y);
        const sliced = sliceFrames(batch, start, end);
        assert.deepEqual(Array.from(sliced), Array.from(packFrames(unpackFrames(batch).slice(start, end))));
      }),
      { numRuns: 300 },
    );
  });

  test("slices the whole, nothing, the first and the last item", () => {
    const items = [text("a"), text("bb"), text("ccc")];
    const batch = packFrames(items);
    assert.deepEqual(Array.from(sliceFrames(batch, 0, 3)), Array.from(batch));
    assert.deepEqual(Array.from(sliceFrames(batch, 2, 2)), Array.from(packFrames([])));
    assertItems(unpackFrames(sliceFrames(batch, 0, 1)), items.slice(0, 1));
    assertItems(unpackFrames(sliceFrames(batch, 2, 3)), items.slice(2));
  });

  test("slices a large batch and returns an independent copy", () => {
    const items = [pattern(3 << 20, 1), pattern(70_000, 2), pattern(5 << 20, 3)];
    const batch = packFrames(items);
    const mid = sliceFrames(batch, 1, 3);
    assert.notEqual(mid.buffer, batch.buffer);
    const out = unpackFrames(mid);
    assert.equal(out.length, 2);
    assert.equal(crc32c(out[0]), crc32c(items[1]));
    assert.equal(crc32c(out[1]), crc32c(items[2]));
  });

  test("rejects bad bounds with RangeError and non-numbers with TypeError", () => {
    const batch = packFrames([text("a"), text("b")]);
    for (const [s, e] of [[-1, 1], [0, 3], [2, 1], [0.5, 1], [0, NaN], [0, Infinity]]) {
      assert.throws(() => sliceFrames(batch, s, e), RangeError, `${s}..${e}`);
    }
    assert.throws(() => sliceFrames(batch, "0" as unknown as number, 1), TypeError);
    assert.throws(() => sliceFrames(batch, 0, 3), /0 <= start <= end <= 2/);
  });
});
