/**
 * Loader of the skypool WebAssembly core (wasm/src/lib.rs, embedded in
 * wasm/skypool_core.ts) and the streaming wrappers around its kernels.
 *
 * The module is instantiated once, lazily and synchronously, on the first
 * call. Worker processes import this file, so importing it does nothing but
 * define functions.
 *
 * WebAssembly can only read its own linear memory, so inputs are streamed
 * through a fixed 64 KiB scratch block: each piece is copied in with
 * `Uint8Array.prototype.set` (a memcpy that stays in cache) and handed to
 * the kernel. This keeps the instance at its initial size whatever the input
 * size (linear memory never shrinks), and the copy costs a few percent of
 * the kernels' time.
 *
 * @module
 */
import { wasmBytes } from "../../wasm/skypool_core.ts";

interface CoreExports {
  readonly memory: WebAssembly.Memory;
  sk_init(): void;
  sk_alloc(size: number): number;
  sk_free(ptr: number, size: number): void;
  sk_crc32c(crc: number, ptr: number, len: number): number;
  sk_crc32c_combine(crc1: number, crc2: number, len2: number): number;
  sk_find_byte(ptr: number, len: number, byte: number): number;
  sk_newline_splits(ptr: number, len: number, target: number, partSize: number, out: number, cap: number): number;
}

/** Bytes handed to a kernel per call. */
export const SCRATCH_SIZE = 64 * 1024;
/** Up to this many bytes are copied into the scratch block by a loop rather than `set`. */
const SMALL_COPY = 64;

/**
 * The instantiated core: raw exports plus grow-safe access to linear memory.
 */
export interface WasmCore {
  /** The module's exports (raw C ABI; pointers are byte offsets). */
  readonly exports: CoreExports;
  /**
   * A view of all of linear memory. Memory growth (any `alloc` may grow it)
   * detaches earlier views, so call this again after allocating rather than
   * keeping the view.
   */
  heap(): Uint8Array;
  /**
   * Allocates `size` bytes in linear memory and returns the offset.
   * @throws {RangeError} if `size` is not a positive integer or memory is exhausted.
   */
  alloc(size: number): number;
  /** Frees a block from {@link WasmCore.alloc}, given the same size. */
  free(ptr: number, size: number): void;
  /** Offset of the {@link SCRATCH_SIZE}-byte scratch block the wrappers stream through. */
  readonly scratch: number;
}

let core: WasmCore | undefined;
let heapBuffer: ArrayBufferLike | undefined;
let heapView: Uint8Array = new Uint8Array(0);

function heapOf(memory: WebAssembly.Memory): Uint8Array {
  // Identity check, not a length check: growth replaces the ArrayBuffer.
  const buffer: ArrayBufferLike = memory.buffer;
  if (buffer !== heapBuffer) {
    heapBuffer = buffer;
    heapView = new Uint8Array(buffer);
  }
  return heapView;
}

function instantiate(): WasmCore {
  const module = new WebAssembly.Module(wasmBytes());
  const exports = new WebAssembly.Instance(module, {}).exports as unknown as CoreExports;
  exports.sk_init();
  const alloc = (size: number): number => {
    if (!Number.isInteger(size) || size <= 0 || size > 0x7fffffff) {
      throw new RangeError(`alloc size must be an integer in 1..2^31-1, got ${size}`);
    }
    const ptr = exports.sk_alloc(size) >>> 0;
    if (ptr === 0) throw new RangeError(`WebAssembly memory exhausted allocating ${size} bytes`);
    return ptr;
  };
  const scratch = alloc(SCRATCH_SIZE);
  return {
    exports,
    heap: () => heapOf(exports.memory),
    alloc,
    free: (ptr, size) => exports.sk_free(ptr, size),
    scratch,
  };
}

/**
 * Returns the core, instantiating it on first use (synchronously, about a
 * millisecond).
 *
 * @example
 * ```ts
 * import { wasmCore } from "./src/task/wasm_core.ts";
 * const core = wasmCore();
 * const p = core.alloc(16);
 * core.heap().fill(1, p, p + 16);
 * core.free(p, 16);
 * ```
 * @throws {WebAssembly.CompileError} only if the embedded module is damaged.
 */
export function wasmCore(): WasmCore {
  return (core ??= instantiate());
}

/**
 * Continues a CRC-32C over `bytes[start, end)`: `crc` is the CRC of what
 * came before (0 to start). Arguments are trusted (internal use): callers
 * validate them.
 */
export function crc32cUpdate(crc: number, bytes: Uint8Array, start: number, end: number): number {
  const c = wasmCore();
  const { sk_crc32c } = c.exports;
  const ptr = c.scratch;
  const n0 = end - start;
  if (n0 <= SMALL_COPY) {
    // A byte loop beats creating a subarray for set() on a few dozen bytes
    // (batch headers are 20), and these calls are per batch.
    const heap = c.heap();
    for (let i = 0; i < n0; i++) heap[ptr + i] = bytes[start + i];
    return sk_crc32c(crc, ptr, n0) >>> 0;
  }
  while (start < end) {
    const n = Math.min(end - start, SCRATCH_SIZE);
    c.heap().set(bytes.subarray(start, start + n), ptr);
    crc = sk_crc32c(crc, ptr, n);
    start += n;
  }
  return crc >>> 0;
}

/**
 * CRC-32C of A ++ B from `crc1` = CRC(A), `crc2` = CRC(B) and `len2` = |B|
 * (0 ≤ len2 < 2^32), without the bytes.
 */
export function crc32cCombineRaw(crc1: number, crc2: number, len2: number): number {
  return wasmCore().exports.sk_crc32c_combine(crc1, crc2, len2) >>> 0;
}

/**
 * Index of the first `byte` in `bytes[start, end)`, or -1. Arguments are
 * trusted (internal use). The first piece is small and later ones double, so
 * a hit close to `start` does not pay for copying 64 KiB.
 */
export function findByte(bytes: Uint8Array, byte: number, start: number, end: number): number {
  const c = wasmCore();
  const { sk_find_byte } = c.exports;
  const ptr = c.scratch;
  let piece = 4096;
  while (start < end) {
    const n = Math.min(end - start, piece);
    c.heap().set(bytes.subarray(start, start + n), ptr);
    const i = sk_find_byte(ptr, n, byte);
    if (i >= 0) return start + i;
    start += n;
    if (piece < SCRATCH_SIZE) piece *= 2;
  }
  return -1;
}

/** Split offsets returned per kernel call (u32 each). */
const SPLITS_CAP = 8192;
let splitsOut = 0;

/**
 * Newline split points of `bytes` for parts of `partSize` bytes, with the
 * semantics documented on `newlineSplits` (src/task/newline_scan.ts), for
 * 1 ≤ partSize < {@link SCRATCH_SIZE}: each piece is searched by one kernel
 * call that records every split in it. Arguments are trusted.
 */
export function newlineSplitsSmallParts(bytes: Uint8Array, partSize: number): number[] {
  const c = wasmCore();
  const { sk_newline_splits } = c.exports;
  const ptr = c.scratch;
  if (splitsOut === 0) splitsOut = c.alloc(4 * SPLITS_CAP);
  const len = bytes.length;
  const splits: number[] = [];
  // A part starting at s ends after the first newline at or after
  // s + partSize - 1; parts are cut only while that index is < len - 1.
  let target = partSize - 1;
  while (target < len - 1) {
    // Each piece starts at the target: no byte before it can matter.
    const n = Math.min(len - target, SCRATCH_SIZE);
    const heap = c.heap();
    heap.set(bytes.subarray(target, target + n), ptr);
    const count = sk_newline_splits(ptr, n, 0, partSize, splitsOut, SPLITS_CAP);
    if (count === 0) {
      target += n; // no newline from target to the piece's end
      continue;
    }
    const out = new Uint32Array(c.heap().buffer, splitsOut, count);
    for (let i = 0; i < count; i++) {
      const split = target + out[i];
      if (split >= len) return splits; // the newline is the last byte: no part after it
      splits.push(split);
    }
    target = splits[splits.length - 1] + partSize - 1;
  }
  return splits;
}
