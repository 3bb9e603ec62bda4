import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4.3.0";
import { newlineSplits, nextNewline } from "../../src/task/newline_scan.ts";

const NL = 10;
const text = (s: string) => new TextEncoder().encode(s);

/** Naive reference: the documented semantics, one byte at a time. */
function referenceSplits(bytes: Uint8Array, partSize: number): number[] {
  const splits: number[] = [];
  let start = 0;
  while (bytes.length - start > partSize) {
    let i = start + partSize - 1;
    while (i < bytes.length && bytes[i] !== NL) i++;
    if (i >= bytes.length - 1) break;
    splits.push(i + 1);
    start = i + 1;
  }
  return splits;
}

function referenceNext(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) if (bytes[i] === NL) return i;
  return -1;
}

/** The invariants the doc promises, checked independently of any algorithm. */
function assertPartition(bytes: Uint8Array, partSize: number, splits: number[]): void {
  const bounds = [0, ...splits, bytes.length];
  for (let k = 1; k < bounds.length; k++) {
    const [start, end] = [bounds[k - 1], bounds[k]];
    assert.ok(end > start || bytes.length === 0, `part ${k - 1} is empty`);
    const last = k === bounds.length - 1;
    if (!last) {
      assert.equal(bytes[end - 1], NL, `split ${end} is not just after a newline`);
      assert.ok(end - start >= partSize, `part ${k - 1} is shorter than partSize`);
      // It ends at the FIRST newline from start + partSize - 1 on.
      for (let i = start + partSize - 1; i < end - 1; i++) assert.notEqual(bytes[i], NL, `part ${k - 1} overshoots a newline at ${i}`);
    } else if (end - start > partSize) {
      // A last part longer than partSize has no newline to cut at, except at its very end.
      for (let i = start + partSize - 1; i < end - 1; i++) assert.notEqual(bytes[i], NL, `last part should have been cut at ${i + 1}`);
    }
  }
}

/** Text-like random bytes: lines of random length, or none at all. */
const bufferArb = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc.uint8Array({ maxLength: 400 }).map((b) => b.map((x) => (x === NL ? 0 : x))),
  fc.array(fc.string({ maxLength: 30 }), { maxLength: 40 }).map((lines) => text(lines.join("\n"))),
  fc.array(fc.constantFrom(NL, 65), { maxLength: 200 }).map((xs) => Uint8Array.from(xs)),
);

describe("newlineSplits", () => {
  test("documented example", () => {
    assert.deepEqual(newlineSplits(text("one\ntwo\nthree\nfour\n"), 6), [8, 14]);
  });

  test("matches the naive reference and the documented invariants on random inputs", () => {
    fc.assert(
      fc.property(bufferArb, fc.integer({ min: 1, max: 500 }), (bytes, partSize) => {
        const splits = newlineSplits(bytes, partSize);
        assert.deepEqual(splits, referenceSplits(bytes, partSize));
        assertPartition(bytes, partSize, splits);
      }),
      { numRuns: 1000 },
    );
  });

  test("matches the reference for part sizes around the bulk/per-part crossover (2 KiB)", () => {
    const linesArb = fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 30 }).map((lens) => {
      const out = new Uint8Array(lens.reduce((n, l) => n + l + 1, 0)).fill(0x61);
      let at = -1;
      for (const l of lens) out[(at += l + 1)] = NL;
      return out;
    });
    fc.assert(
      fc.property(linesArb, fc.integer({ min: 1, max: 6000 }), (bytes, partSize) => {
        const splits = newlineSplits(bytes, partSize);
        assert.deepEqual(splits, referenceSplits(bytes, partSize));
        assertPartition(bytes, partSize, splits);
      }),
      { numRuns: 300 },
    );
  });

  test("many splits per 64 KiB piece (more than one kernel call's worth)", () => {
    const bytes = new Uint8Array(200_003).fill(NL);
    const splits = newlineSplits(bytes, 1);
    assert.equal(splits.length, bytes.length - 1);
    assert.ok(splits.every((s, i) => s === i + 1));
    const every3 = newlineSplits(bytes, 3);
    assert.deepEqual(every3, referenceSplits(bytes, 3));
  });

  test("matches the reference on large buffers with sparse newlines (the WebAssembly search path)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400_000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 150_000 }),
        (length, positions, partSize) => {
          const bytes = new Uint8Array(length).fill(97);
          for (const p of positions) bytes[p % length] = NL;
          const splits = newlineSplits(bytes, partSize);
          assert.deepEqual(splits, referenceSplits(bytes, partSize));
          assertPartition(bytes, partSize, splits);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("edge cases: empty, all newlines, newline first or last, partSize beyond the buffer", () => {
    assert.deepEqual(newlineSplits(new Uint8Array(0), 1), []);
    assert.deepEqual(newlineSplits(new Uint8Array(5).fill(NL), 1), [1, 2, 3, 4]);
    assert.deepEqual(newlineSplits(new Uint8Array(5).fill(NL), 2), [2, 4]);
    assert.deepEqual(newlineSplits(text("\nabcdef"), 1), [1]);
    assert.deepEqual(newlineSplits(text("abc\n"), 1), []);
    assert.deepEqual(newlineSplits(text("abc\nd"), 1), [4]);
    assert.deepEqual(newlineSplits(text("ab\ncd\n"), 100), []);
    assert.deepEqual(newlineSplits(text("ab\ncd\n"), 6), []);
    assert.deepEqual(newlineSplits(text("ab\ncd\nef"), 3), [3, 6]);
    assert.deepEqual(newlineSplits(text("no newline at all, long enough"), 4), []);
  });

  test("a part with no newline in reach extends to the next newline", () => {
    // partSize 2: the first part must run to the newline at index 9.
    assert.deepEqual(newlineSplits(text("abcdefghi\njk\nl"), 2), [10, 13]);
  });

  test("works on a view with a byteOffset", () => {
    const carrier = text("xxxx\nab\ncd\nef");
    const view = carrier.subarray(5);
    assert.deepEqual(newlineSplits(view, 2), [3, 6]);
  });

  test("rejects partSize < 1, non-integers and non-numbers", () => {
    for (const bad of [0, -1, 0.5, NaN, Infinity, 2 ** 53]) {
      assert.throws(() => newlineSplits(text("a\nb"), bad), RangeError, String(bad));
    }
    assert.throws(() => newlineSplits(text("a\nb"), "2" as unknown as number), TypeError);
    assert.throws(() => newlineSplits("a\nb" as unknown as Uint8Array, 2), TypeError);
  });
});

describe("nextNewline", () => {
  test("finds the first newline at or after the offset", () => {
    const t = text("ab\ncd\n");
    assert.equal(nextNewline(t), 2);
    assert.equal(nextNewline(t, 2), 2);
    assert.equal(nextNewline(t, 3), 5);
    assert.equal(nextNewline(t, 6), -1);
    assert.equal(nextNewline(new Uint8Array(0)), -1);
  });

  test("finds a single newline at every position near the search's piece boundaries", () => {
    const length = 70_000;
    const bytes = new Uint8Array(length).fill(0x20);
    const positions = [0, 1, 15, 16, 63, 64, 127, 128, 129, 191, 192, 4095 + 128, 4096 + 128, 4097 + 128,
      12_288 + 128, 28_672 + 128, 65_535, 65_536, 65_537, length - 1];
    for (const p of positions) {
      bytes[p] = NL;
      assert.equal(nextNewline(bytes, 0), p, `newline at ${p}`);
      assert.equal(nextNewline(bytes, p), p, `from ${p}`);
      assert.equal(nextNewline(bytes, Math.min(p + 1, length)), -1, `after ${p}`);
      bytes[p] = 0x20;
    }
    assert.equal(nextNewline(bytes, 0), -1);
  });

  test("matches the naive reference on random buffers and offsets", () => {
    fc.assert(
      fc.property(bufferArb, fc.nat(), (bytes, f) => {
        const from = f % (bytes.length + 1);
        assert.equal(nextNewline(bytes, from), referenceNext(bytes, from));
      }),
      { numRuns: 500 },
    );
  });

  test("matches the naive reference on a 1 MiB buffer of bytes close to newline", () => {
    // 0x0B and 0x8A differ from 0x0A by one bit: a sloppy compare would match them.
    const bytes = new Uint8Array(1 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 3 === 0 ? 0x0b : i % 3 === 1 ? 0x8a : 0x09;
    bytes[1_000_003] = NL;
    assert.equal(nextNewline(bytes), 1_000_003);
    assert.equal(nextNewline(bytes, 1_000_004), -1);
  });

  test("rejects offsets outside 0..length", () => {
    const t = text("a\n");
    for (const bad of [-1, 3, 1.5, NaN]) assert.throws(() => nextNewline(t, bad), RangeError, String(bad));
    assert.throws(() => nextNewline(null as unknown as Uint8Array), TypeError);
  });
});
