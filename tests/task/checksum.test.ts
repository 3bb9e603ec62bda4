import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4.3.0";
import { crc32c, crc32cCombine } from "../../src/task/checksum.ts";

/** Bit-at-a-time CRC-32C, straight from the definition (reflected, poly 0x82F63B78). */
function referenceCrc32c(bytes: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

describe("crc32c", () => {
  test("matches the published CRC-32C check value and RFC 3720 vectors", () => {
    assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });

  test("the reference implementation agrees with the check value", () => {
    assert.equal(referenceCrc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  });

  test("agrees with the reference on every length from 0 to 300", () => {
    const data = randomBytes(300, 7);
    for (let n = 0; n <= 300; n++) {
      assert.equal(crc32c(data.subarray(0, n)), referenceCrc32c(data.subarray(0, n)), `length ${n}`);
    }
  });

  test("agrees with the reference on inputs larger than the 64 KiB scratch block", () => {
    for (const n of [65535, 65536, 65537, 3 * 65536 + 17, 1 << 20]) {
      const data = randomBytes(n, n);
      assert.equal(crc32c(data), referenceCrc32c(data), `length ${n}`);
    }
  });

  test("reads only the view it is given, not the whole underlying buffer", () => {
    const backing = randomBytes(70_000, 3);
    const view = backing.subarray(13, 69_001);
    assert.equal(crc32c(view), referenceCrc32c(view));
  });

  test("random inputs, offsets and running checksums agree with the reference", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(0xffffffff), (bytes, previous) => {
        assert.equal(crc32c(bytes, previous), referenceCrc32c(bytes, previous));
      }),
      { numRuns: 300 },
    );
  });

  test("continuing from the CRC of a prefix equals the CRC of the whole", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.uint8Array({ maxLength: 500 }), (a, b) => {
        assert.equal(crc32c(b, crc32c(a)), crc32c(concat(a, b)));
      }),
      { numRuns: 200 },
    );
  });

  test("rejects bad arguments with TypeError / RangeError", () => {
    assert.throws(() => crc32c("123" as unknown as Uint8Array), TypeError);
    assert.throws(() => crc32c([1, 2, 3] as unknown as Uint8Array), TypeError);
    assert.throws(() => crc32c(new Uint8Array(1), -1), RangeError);
    assert.throws(() => crc32c(new Uint8Array(1), 2 ** 32), RangeError);
    assert.throws(() => crc32c(new Uint8Array(1), 1.5), RangeError);
  });
});

describe("crc32cCombine", () => {
  test("the CRC of A ++ B follows from the CRCs of A and B and the length of B", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        assert.equal(crc32cCombine(crc32c(a), crc32c(b), b.length), crc32c(concat(a, b)));
      }),
      { numRuns: 200 },
    );
  });

  test("is exact on a long B (1 MiB + 3 bytes)", () => {
    const a = randomBytes(777, 1);
    const b = randomBytes((1 << 20) + 3, 2);
    assert.equal(crc32cCombine(crc32c(a), crc32c(b), b.length), crc32c(concat(a, b)));
  });

  test("is associative for lengths up to 2^32-1 (the bytes need not exist)", () => {
    fc.assert(
      fc.property(
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        (a, b, c, lb, lc0) => {
          const lc = lc0 % (2 ** 32 - lb);
          assert.equal(
            crc32cCombine(crc32cCombine(a, b, lb), c, lc),
            crc32cCombine(a, crc32cCombine(b, c, lc), lb + lc),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test("rejects values outside 0..2^32-1", () => {
    assert.throws(() => crc32cCombine(-1, 0, 0), RangeError);
    assert.throws(() => crc32cCombine(0, 2 ** 32, 0), RangeError);
    assert.throws(() => crc32cCombine(0, 0, 0.5), RangeError);
  });
});
