import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  coerce,
  initialValues,
  pack,
  type Typecode,
  TYPECODES,
  typecodeInfo,
  unpack,
  zeroOf,
} from "../../src/state/typecodes.ts";

describe("typecodes", () => {
  test("every typecode has the C size (LP64 longs)", () => {
    const sizes: Record<string, number> = {
      c: 1, b: 1, B: 1, h: 2, H: 2, i: 4, I: 4, l: 8, L: 8, q: 8, Q: 8, f: 4, d: 8, u: 4,
    };
    assert.deepEqual(Object.fromEntries(TYPECODES.map((c) => [c, typecodeInfo(c).size])), sizes);
  });

  test("an unknown typecode is a TypeError saying 'bad typecode'", () => {
    for (const bad of ["x", "", "ii", "?", 5, null, undefined, "toString"]) {
      assert.throws(() => typecodeInfo(bad), (e: unknown) => e instanceof TypeError && /bad typecode/.test(e.message));
    }
  });

  test("integers wrap like C", () => {
    assert.equal(coerce("i", 2 ** 31), -(2 ** 31));
    assert.equal(coerce("i", 2 ** 31 - 1), 2 ** 31 - 1);
    assert.equal(coerce("i", -(2 ** 31) - 1), 2 ** 31 - 1);
    assert.equal(coerce("I", -1), 2 ** 32 - 1);
    assert.equal(coerce("B", 256), 0);
    assert.equal(coerce("B", 300), 44);
    assert.equal(coerce("B", -1), 255);
    assert.equal(coerce("b", 128), -128);
    assert.equal(coerce("b", 255), -1);
    assert.equal(coerce("h", 32768), -32768);
    assert.equal(coerce("H", 65537), 1);
    assert.equal(coerce("i", 7n), 7);
    // A double above 2^53 converts exactly before wrapping.
    assert.equal(coerce("i", 2 ** 60 + 2 ** 33 + 5 * 2 ** 8), 5 * 2 ** 8);
  });

  test("64-bit typecodes are exact bigints and wrap at 2^63 / 2^64", () => {
    assert.equal(coerce("q", 2 ** 40), 2n ** 40n);
    assert.equal(coerce("q", 2n ** 63n), -(2n ** 63n));
    assert.equal(coerce("Q", -1), 2n ** 64n - 1n);
    assert.equal(coerce("l", 2n ** 62n + 3n), 2n ** 62n + 3n);
    assert.equal(coerce("L", 2n ** 64n + 9n), 9n);
  });

  test("integer codes refuse fractions, NaN, strings and booleans", () => {
    assert.throws(() => coerce("i", 1.5), TypeError);
    assert.throws(() => coerce("q", Number.NaN), TypeError);
    assert.throws(() => coerce("B", Infinity), TypeError);
    assert.throws(() => coerce("i", "3"), TypeError);
    assert.throws(() => coerce("h", true), TypeError);
  });

  test("'f' rounds to float32, 'd' keeps the double", () => {
    assert.equal(coerce("f", 0.1), Math.fround(0.1));
    assert.notEqual(coerce("f", 0.1), 0.1);
    assert.equal(coerce("d", 0.1), 0.1);
    assert.equal(coerce("d", 3n), 3);
    assert.ok(Number.isNaN(coerce("d", Number.NaN)));
    assert.throws(() => coerce("d", "1"), TypeError);
  });

  test("'c' is one byte from a Uint8Array, a 1-char string or 0-255", () => {
    assert.deepEqual(coerce("c", Uint8Array.of(120)), Uint8Array.of(120));
    assert.deepEqual(coerce("c", "y"), Uint8Array.of(121));
    assert.deepEqual(coerce("c", 255), Uint8Array.of(255));
    assert.throws(() => coerce("c", "ab"), RangeError);
    assert.throws(() => coerce("c", "\u0101"), RangeError);
    assert.throws(() => coerce("c", new Uint8Array(2)), RangeError);
    assert.throws(() => coerce("c", 256), RangeError);
    assert.throws(() => coerce("c", {}), TypeError);
  });

  test("'u' is one code point, astral ones included", () => {
    assert.equal(coerce("u", "é"), "é");
    assert.equal(coerce("u", "😀"), "😀");
    assert.throws(() => coerce("u", "ab"), RangeError);
    assert.throws(() => coerce("u", ""), RangeError);
    assert.throws(() => coerce("u", 65), TypeError);
  });

  test("pack/unpack round-trips every typecode little-endian", () => {
    const samples: Record<Typecode, unknown[]> = {
      c: [Uint8Array.of(0), Uint8Array.of(200)],
      b: [-128, 127, -1],
      B: [0, 255, 17],
      h: [-32768, 32767, 1234],
      H: [0, 65535, 4321],
      i: [-(2 ** 31), 2 ** 31 - 1, 4343],
      I: [0, 2 ** 32 - 1, 99],
      l: [-(2n ** 63n), 2n ** 63n - 1n],
      L: [0n, 2n ** 64n - 1n],
      q: [2n ** 33n, -(2n ** 40n)],
      Q: [2n ** 34n, 1n],
      f: [Math.fround(3.25), Math.fround(-1e-3)],
      d: [3.625, -4.25, Number.MAX_VALUE],
      u: ["a", "€", "😀"],
    };
    for (const code of TYPECODES) {
      const bytes = pack(code, samples[code]);
      assert.equal(bytes.length, samples[code].length * typecodeInfo(code).size, code);
      assert.deepEqual(unpack(code, bytes, samples[code].length), samples[code], code);
    }
    assert.deepEqual([...pack("i", [1])], [1, 0, 0, 0]);
    assert.deepEqual([...pack("H", [0x1234])], [0x34, 0x12]);
  });

  test("unpack reads missing trailing bytes as zero", () => {
    assert.deepEqual(unpack("i", Uint8Array.of(5), 3), [5, 0, 0]);
    assert.deepEqual(unpack("q", new Uint8Array(0), 1), [0n]);
  });

  test("zeroOf gives each kind's zero", () => {
    assert.equal(zeroOf("i"), 0);
    assert.equal(zeroOf("Q"), 0n);
    assert.deepEqual(zeroOf("c"), Uint8Array.of(0));
    assert.equal(zeroOf("u"), "\0");
  });

  test("initialValues: sizes, iterables, and strings only for char codes", () => {
    assert.deepEqual(initialValues("i", 4), [0, 0, 0, 0]);
    assert.deepEqual(initialValues("d", 0), []);
    assert.deepEqual(initialValues("B", [1, 256, -1]), [1, 0, 255]);
    assert.deepEqual(initialValues("i", new Set([3, 4])), [3, 4]);
    assert.deepEqual(initialValues("c", "ab"), [Uint8Array.of(97), Uint8Array.of(98)]);
    assert.deepEqual(initialValues("c", Uint8Array.of(1, 2)), [Uint8Array.of(1), Uint8Array.of(2)]);
    assert.deepEqual(initialValues("u", "a😀"), ["a", "😀"]);
    assert.throws(() => initialValues("i", "nope"), TypeError);
    assert.throws(() => initialValues("i", -1), RangeError);
    assert.throws(() => initialValues("i", 2.5), RangeError);
    assert.throws(() => initialValues("i", null), TypeError);
    assert.throws(() => initialValues("i", [1, "x"]), TypeError);
  });
});
