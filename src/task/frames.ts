/**
 * Batch framing: N encoded items in one buffer with an offset index and
 * CRC-32C checksums, so that a chunk of tasks or a set of results crosses a
 * process boundary as one message and arrives verified.
 *
 * Layout (version 1, integers unsigned little-endian):
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 4 | magic `"SKPB"` (53 4B 50 42) |
 * | 4 | 1 | format version, 1 |
 * | 5 | 3 | reserved, zero |
 * | 8 | 4 | item count N |
 * | 12 | 4 | total length of the batch in bytes |
 * | 16 | 4 | body checksum: CRC-32C of bytes 24 to the end (index + payload) |
 * | 20 | 4 | header checksum: CRC-32C of bytes 0 to 20 |
 * | 24 | 4N | index: where item i ends, counted from the payload start, non-decreasing |
 * | 24 + 4N | … | payload: the items back to back |
 *
 * The header has its own checksum so that {@link frameCount} can trust the
 * count without reading the body. JavaScript lays the batch out (one copy of
 * each item, which no design avoids) and WebAssembly computes the checksums
 * over it, streamed through a 64 KiB scratch block (see wasm_core.ts); the
 * checksum, at about 2 GB/s, is most of the cost of a large batch. Laying
 * the batch out in WebAssembly memory instead costs a second full copy out
 * of it, and fusing the copy with the checksum pass per 64 KiB measured no
 * faster. Unpacking returns views into the batch, copying nothing.
 *
 * @module
 */
import { SerializationError } from "../errors.ts";
import { crc32cCombineRaw, crc32cUpdate } from "./wasm_core.ts";

const MAGIC = 0x42504b53; // "SKPB" read as a little-endian u32
const VERSION = 1;
const HEADER = 24;
const MAX_TOTAL = 0xffffffff;

/**
 * Packs encoded items into one batch: header, index, then the items' bytes.
 *
 * @example
 * ```ts
 * import { packFrames, unpackFrames } from "./src/task/frames.ts";
 * const batch = packFrames([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * console.assert(unpackFrames(batch)[1][0] === 3);
 * ```
 * @throws {TypeError} if `items` is not an array of Uint8Array.
 * @throws {RangeError} if the batch would exceed 4 GiB - 1 bytes, the format's limit.
 */
export function packFrames(items: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(items)) {
    throw new TypeError(`packFrames: items must be an array of Uint8Array, got ${describe(items)}`);
  }
  const n = items.length;
  let payload = 0;
  for (let i = 0; i < n; i++) {
    const item = items[i];
    if (!(item instanceof Uint8Array)) {
      throw new TypeError(`packFrames: items[${i}] must be a Uint8Array, got ${describe(item)}`);
    }
    payload += item.length;
  }
  const indexEnd = HEADER + 4 * n;
  const total = indexEnd + payload;
  if (total > MAX_TOTAL) {
    throw new RangeError(`packFrames: the batch would be ${total} bytes; the format's limit is ${MAX_TOTAL}`);
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let end = 0;
  for (let i = 0; i < n; i++) {
    const item = items[i];
    const len = item.length;
    if (len > 0) out.set(item, indexEnd + end);
    end += len;
    dv.setUint32(HEADER + 4 * i, end, true);
  }
  writeHeader(out, dv, n, total, crc32cUpdate(0, out, HEADER, total));
  return out;
}

/**
 * Verifies a batch and returns its items as views into it (no copy: they
 * share the batch's memory, so copy an item before changing the batch).
 *
 * @example
 * ```ts
 * import { packFrames, unpackFrames } from "./src/task/frames.ts";
 * const items = unpackFrames(packFrames([new TextEncoder().encode("hi")]));
 * console.assert(new TextDecoder().decode(items[0]) === "hi");
 * ```
 * @throws {TypeError} if `batch` is not a Uint8Array.
 * @throws {SerializationError} if the batch is truncated, corrupted, not a
 *   batch, or of an unsupported format version; the message says which.
 */
export function unpackFrames(batch: Uint8Array): Uint8Array[] {
  const h = readHeader(batch, "unpackFrames");
  const { count, dv, indexEnd } = h;
  const payload = h.total - indexEnd;
  const buffer = batch.buffer;
  const origin = batch.byteOffset + indexEnd;
  const out = new Array<Uint8Array>(count);
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const e = dv.getUint32(HEADER + 4 * i, true);
    if (e < prev || e > payload) badEnd("unpackFrames", i, e, prev, payload);
    out[i] = new Uint8Array(buffer, origin + prev, e - prev);
    prev = e;
  }
  if (prev !== payload) badCover("unpackFrames", prev, payload);
  checkBody(h, crc32cUpdate(0, batch, HEADER, h.total), "unpackFrames");
  return out;
}

/**
 * Number of items in a batch. Reads only the 24-byte header, whose own
 * checksum is verified; the body is checked when the batch is unpacked.
 *
 * @example
 * ```ts
 * import { frameCount, packFrames } from "./src/task/frames.ts";
 * console.assert(frameCount(packFrames([new Uint8Array(3), new Uint8Array(0)])) === 2);
 * ```
 * @throws {TypeError} if `batch` is not a Uint8Array.
 * @throws {SerializationError} if the header is truncated, corrupted, not a
 *   batch header, or of an unsupported version, or if the batch's length is
 *   not the one its header declares.
 */
export function frameCount(batch: Uint8Array): number {
  return readHeader(batch, "frameCount").count;
}

/**
 * A new batch holding items `start` (inclusive) to `end` (exclusive) of
 * `batch`: their bytes are copied as they are, never decoded. The source is
 * verified on the way, in the same single checksum pass that yields the new
 * batch's checksum.
 *
 * @example
 * ```ts
 * import { packFrames, sliceFrames, unpackFrames } from "./src/task/frames.ts";
 * const batch = packFrames([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]);
 * const tail = unpackFrames(sliceFrames(batch, 1, 3));
 * console.assert(tail.length === 2 && tail[0][0] === 2);
 * ```
 * @throws {TypeError} if `batch` is not a Uint8Array or the bounds are not numbers.
 * @throws {RangeError} unless `start` and `end` are integers with
 *   0 ≤ start ≤ end ≤ the item count.
 * @throws {SerializationError} if `batch` is not a valid batch (as for {@link unpackFrames}).
 */
export function sliceFrames(batch: Uint8Array, start: number, end: number): Uint8Array {
  if (typeof start !== "number" || typeof end !== "number") {
    throw new TypeError(`sliceFrames: start and end must be numbers, got ${describe(start)} and ${describe(end)}`);
  }
  const h = readHeader(batch, "sliceFrames");
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > h.count) {
    throw new RangeError(
      `sliceFrames: need integers 0 <= start <= end <= ${h.count} (the item count), got start=${start}, end=${end}`,
    );
  }
  const ends = readIndex(h, "sliceFrames");
  const base = start === 0 ? 0 : ends[start - 1];
  const from = h.indexEnd + base;
  const to = h.indexEnd + (end === 0 ? 0 : ends[end - 1]);
  // One pass: the CRC of the kept range is computed on its own, then
  // combined both into the source's body CRC (to verify it) and into the
  // new batch's (after the new index).
  const midLen = to - from;
  const pre = crc32cUpdate(0, batch, HEADER, from);
  const mid = crc32cUpdate(0, batch, from, to);
  const post = crc32cUpdate(0, batch, to, h.total);
  checkBody(h, crc32cCombineRaw(crc32cCombineRaw(pre, mid, midLen), post, h.total - to), "sliceFrames");

  const m = end - start;
  const indexEnd = HEADER + 4 * m;
  const total = indexEnd + midLen;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < m; i++) dv.setUint32(HEADER + 4 * i, ends[start + i] - base, true);
  if (midLen > 0) out.set(batch.subarray(from, to), indexEnd);
  const indexCrc = crc32cUpdate(0, out, HEADER, indexEnd);
  writeHeader(out, dv, m, total, crc32cCombineRaw(indexCrc, mid, midLen));
  return out;
}

interface Header {
  readonly count: number;
  readonly total: number;
  readonly indexEnd: number;
  readonly bodyCrc: number;
  readonly dv: DataView;
}

function writeHeader(out: Uint8Array, dv: DataView, count: number, total: number, bodyCrc: number): void {
  dv.setUint32(0, MAGIC, true);
  out[4] = VERSION; // 5..7 stay zero
  dv.setUint32(8, count, true);
  dv.setUint32(12, total, true);
  dv.setUint32(16, bodyCrc, true);
  dv.setUint32(20, crc32cUpdate(0, out, 0, 20), true);
}

function readHeader(batch: Uint8Array, fn: string): Header {
  if (!(batch instanceof Uint8Array)) {
    throw new TypeError(`${fn}: batch must be a Uint8Array, got ${describe(batch)}`);
  }
  const len = batch.length;
  if (len < HEADER) {
    throw new SerializationError(`${fn}: batch too short: ${len} bytes, a batch header alone is ${HEADER}`);
  }
  const dv = new DataView(batch.buffer, batch.byteOffset, len);
  const magic = dv.getUint32(0, true);
  if (magic !== MAGIC) {
    throw new SerializationError(`${fn}: not a skypool batch: magic bytes are ${hex(magic, true)}, expected 53 4b 50 42 ("SKPB")`);
  }
  const version = batch[4];
  if (version !== VERSION) {
    throw new SerializationError(`${fn}: unsupported batch format version ${version}; this build reads version ${VERSION}`);
  }
  const stored = dv.getUint32(20, true);
  const computed = crc32cUpdate(0, batch, 0, 20);
  if (stored !== computed) {
    throw new SerializationError(
      `${fn}: batch header corrupted: header checksum is ${hex(stored)}, computed ${hex(computed)}`,
    );
  }
  if (batch[5] !== 0 || batch[6] !== 0 || batch[7] !== 0) {
    throw new SerializationError(`${fn}: batch header has reserved bytes set (${batch[5]}, ${batch[6]}, ${batch[7]}): written by a newer format?`);
  }
  const count = dv.getUint32(8, true);
  const total = dv.getUint32(12, true);
  if (total !== len) {
    throw new SerializationError(
      total > len
        ? `${fn}: batch truncated: header declares ${total} bytes, got ${len}`
        : `${fn}: batch has ${len - total} bytes beyond the ${total} its header declares`,
    );
  }
  const indexEnd = HEADER + 4 * count;
  if (indexEnd > total) {
    throw new SerializationError(`${fn}: batch header corrupted: ${count} items need a ${4 * count}-byte index, but the batch is ${total} bytes`);
  }
  return { count, total, indexEnd, bodyCrc: dv.getUint32(16, true), dv };
}

/** Reads and checks the index: item ends must not decrease and the last one must close the payload. */
function readIndex(h: Header, fn: string): Uint32Array {
  const { count, dv } = h;
  const payload = h.total - h.indexEnd;
  const ends = new Uint32Array(count);
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const e = dv.getUint32(HEADER + 4 * i, true);
    if (e < prev || e > payload) badEnd(fn, i, e, prev, payload);
    ends[i] = prev = e;
  }
  if (prev !== payload) badCover(fn, prev, payload);
  return ends;
}

function badEnd(fn: string, i: number, e: number, prev: number, payload: number): never {
  throw new SerializationError(
    `${fn}: batch index corrupted: item ${i} ends at payload offset ${e}, ` +
      (e < prev ? `before its start ${prev}` : `beyond the ${payload}-byte payload`),
  );
}

function badCover(fn: string, covered: number, payload: number): never {
  throw new SerializationError(`${fn}: batch index corrupted: the items cover ${covered} bytes of a ${payload}-byte payload`);
}

function checkBody(h: Header, computed: number, fn: string): void {
  if (computed !== h.bodyCrc) {
    throw new SerializationError(
      `${fn}: batch body corrupted: checksum of its index and payload is ${hex(computed)}, the header says ${hex(h.bodyCrc)}`,
    );
  }
}

function hex(v: number, bytes = false): string {
  if (!bytes) return "0x" + v.toString(16).padStart(8, "0");
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}
