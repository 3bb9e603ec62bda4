/**
 * Newline-aligned partitioning of a byte buffer: where to cut a file or
 * object into parts of about `partSize` bytes without splitting a line.
 *
 * For parts of 2 KiB and more, only the bytes between each target cut and
 * the newline after it are read, not the whole buffer; smaller parts are
 * found in bulk. Either way the searching is done by the WebAssembly core
 * with simd128 compares (several GB/s including the copy into its memory).
 *
 * @module
 */
import { findByte, newlineSplitsSmallParts } from "./wasm_core.ts";

const NL = 0x0a;
/** Bytes searched in plain JavaScript before handing over to WebAssembly: most lines end sooner. */
const INLINE_SCAN = 128;
/** Below this part size, splits are found in bulk rather than one search per part. */
const SMALL_PARTS = 2048;

/**
 * Index of the first newline (`\n`, byte 0x0A) in `bytes` at or after
 * `from`, or -1 if there is none.
 *
 * @example
 * ```ts
 * import { nextNewline } from "./src/task/newline_scan.ts";
 * const text = new TextEncoder().encode("ab\ncd\n");
 * console.assert(nextNewline(text) === 2 && nextNewline(text, 3) === 5 && nextNewline(text, 6) === -1);
 * ```
 * @throws {TypeError} if `bytes` is not a Uint8Array.
 * @throws {RangeError} unless `from` is an integer with 0 ≤ from ≤ bytes.length.
 */
export function nextNewline(bytes: Uint8Array, from = 0): number {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`nextNewline: bytes must be a Uint8Array, got ${describe(bytes)}`);
  }
  if (!Number.isInteger(from) || from < 0 || from > bytes.length) {
    throw new RangeError(`nextNewline: from must be an integer in 0..${bytes.length}, got ${String(from)}`);
  }
  return scan(bytes, from);
}

/**
 * Newline-aligned split points for cutting `bytes` into parts of about
 * `partSize` bytes.
 *
 * Exact semantics: parts are consecutive ranges `[0, s1)`, `[s1, s2)`, …,
 * `[sk, bytes.length)` where `[s1, …, sk]` is the returned array. Each part
 * starts at `start` (0 or the previous split) and
 * - if at most `partSize` bytes remain, it is the last part, up to the end;
 * - otherwise it ends just after the first newline at index
 *   `start + partSize - 1` or later, so it is at least `partSize` bytes and
 *   overshoots by less than one line;
 * - if there is no such newline, or that newline is the last byte, it is the
 *   last part, up to the end.
 *
 * So every split `s` satisfies `bytes[s - 1] === 0x0A` and
 * `0 < s < bytes.length`, splits strictly increase, no part is empty, and
 * every part but the last is at least `partSize` bytes. An empty buffer
 * gives `[]` and has no parts; any other buffer has `splits.length + 1`.
 *
 * @example
 * ```ts
 * import { newlineSplits } from "./src/task/newline_scan.ts";
 * const text = new TextEncoder().encode("one\ntwo\nthree\nfour\n");
 * // parts: "one\ntwo\n" (8 bytes), "three\n" (6), "four\n" (5)
 * console.assert(newlineSplits(text, 6).join() === "8,14");
 * ```
 * @throws {TypeError} if `bytes` is not a Uint8Array or `partSize` is not a number.
 * @throws {RangeError} unless `partSize` is a safe integer ≥ 1.
 */
export function newlineSplits(bytes: Uint8Array, partSize: number): number[] {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`newlineSplits: bytes must be a Uint8Array, got ${describe(bytes)}`);
  }
  if (typeof partSize !== "number") {
    throw new TypeError(`newlineSplits: partSize must be a number, got ${describe(partSize)}`);
  }
  if (!Number.isSafeInteger(partSize) || partSize < 1) {
    throw new RangeError(`newlineSplits: partSize must be an integer >= 1, got ${partSize}`);
  }
  // Small parts: stream the whole buffer through one WebAssembly call per
  // 64 KiB that records every split in it. Larger parts: search from each
  // target on its own and skip the bytes in between (measured crossover
  // about 2 KiB; both stay above 2 GB/s on either side of it).
  if (partSize < SMALL_PARTS) return newlineSplitsSmallParts(bytes, partSize);
  const len = bytes.length;
  const splits: number[] = [];
  let start = 0;
  while (len - start > partSize) {
    const nl = scan(bytes, start + partSize - 1);
    if (nl < 0 || nl + 1 >= len) break;
    splits.push(nl + 1);
    start = nl + 1;
  }
  return splits;
}

function scan(bytes: Uint8Array, from: number): number {
  const len = bytes.length;
  const stop = Math.min(len, from + INLINE_SCAN);
  for (let i = from; i < stop; i++) {
    if (bytes[i] === NL) return i;
  }
  return stop < len ? findByte(bytes, NL, stop, len) : -1;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}
