/**
 * `SharedArray` and `RawArray`: a fixed-size array of C-typed items shared
 * through Redis (Python's `multiprocessing.Array` / `RawArray`; `Array` is
 * JavaScript's own, hence the name).
 *
 * The items are packed little-endian into one Redis string; each `get`,
 * `set`, `slice` and `setSlice` is one atomic step on it. As with `Value`,
 * the lock is for compound updates and is not taken by those calls.
 *
 * @module
 */
import { type HandleRecord, registerStateHandle, restoreHandle } from "./handle.ts";
import { show } from "../validate.ts";
import { type LockLike, lockFromOption, PackedState, packedFromOpts, seedOf, type SynchronizedOptions } from "./value.ts";
import { coerce, initialValues, type Typecode, type TypecodeInput, typecodeInfo, type TypecodeValue } from "./typecodes.ts";

/** What `SharedArray`/`RawArray` accept as contents: a size (zeros), values, or for `'c'`/`'u'` a string (`'c'` also bytes). */
export type ArrayInit<C extends Typecode> = number | Iterable<TypecodeInput<C>> | (C extends "c" ? Uint8Array | string : C extends "u" ? string : never);

let incomingArray: { count: number; seed: Uint8Array | null; lock: LockLike | null; raw: boolean } | undefined;

function checkIndexInteger(i: unknown): number {
  if (typeof i !== "number" || !Number.isInteger(i)) throw new TypeError(`index must be an integer, got ${show(i)}`);
  return i;
}

/**
 * A fixed-size C-typed array in Redis, without a lock (Python's `RawArray`).
 *
 * Indices may be negative (counted from the end, as in Python).
 *
 * @example
 * ```ts
 * import { RawArray } from "./mod.ts";
 * const a = new RawArray("i", 4);
 * console.assert(a.length === 4);
 * await a.set(1, 7);
 * await a.set(-1, 9);
 * console.assert((await a.toArray()).join() === "0,7,0,9");
 * ```
 */
export class RawArray<C extends Typecode = Typecode> extends PackedState<C> {
  /**
   * A new fixed-length array of C type `typecode`, without a lock.
   * @param typecode a C typecode: `'i'`, `'d'`, `'B'`, `'c'`…
   * @param sizeOrValues a size (zero-initialised), or the initial items.
   * @throws {TypeError} "bad typecode", or items of the wrong kind (a string for `'i'`…).
   * @throws {RangeError} for a size that is negative, fractional, or more than one Redis string holds.
   */
  constructor(typecode: C, sizeOrValues: ArrayInit<C>) {
    const init = incomingArray;
    incomingArray = undefined;
    const code = typecodeInfo(typecode).code as C;
    let parts = init;
    if (parts === undefined) {
      const values = initialValues(code, sizeOrValues, "RawArray");
      parts = { count: values.length, seed: seedOf(code, values), lock: null, raw: true };
    }
    super("array", code, parts.count, parts.seed, parts.lock, parts.raw);
  }

  /** The number of items (fixed at creation). */
  get length(): number {
    return this.count;
  }

  #index(i: unknown): number {
    const n = checkIndexInteger(i);
    const j = n < 0 ? n + this.count : n;
    if (j < 0 || j >= this.count) throw new RangeError(`index ${n} out of range for an array of length ${this.count}`);
    return j;
  }

  #bound(i: number | undefined, fallback: number): number {
    if (i === undefined) return fallback;
    const n = checkIndexInteger(i);
    return n < 0 ? Math.max(0, n + this.count) : Math.min(n, this.count);
  }

  /**
   * The item at index `i` (negative counts from the end).
   * @throws {RangeError} for an index out of range.
   * @throws {TypeError} for an index that is not an integer.
   */
  async get(i: number): Promise<TypecodeValue<C>> {
    const j = this.#index(i);
    return (await this.readItems(j, 1))[0];
  }

  /**
   * Sets the item at index `i` (wrapped or rounded like C).
   * @throws {RangeError} for an index out of range.
   * @throws {TypeError} for an index that is not an integer, or a value of the wrong kind.
   */
  async set(i: number, value: TypecodeInput<C>): Promise<void> {
    const j = this.#index(i);
    await this.writeItems(j, [coerce(this.typecode, value)]);
  }

  /** Every item, read in one atomic step. */
  toArray(): Promise<TypecodeValue<C>[]> {
    return this.readItems(0, this.count);
  }

  /**
   * Items `start` to `end` (exclusive), read in one atomic step; bounds
   * work as in `Array.prototype.slice` (negative from the end, clamped).
   * @throws {TypeError} for a bound that is not an integer.
   */
  slice(start?: number, end?: number): Promise<TypecodeValue<C>[]> {
    const a = this.#bound(start, 0);
    const b = this.#bound(end, this.count);
    return this.readItems(a, Math.max(0, b - a));
  }

  /**
   * Writes `values` from index `start` in one atomic step (Python's
   * `arr[start:start + len(values)] = values`).
   * @throws {RangeError} when the values run past the end, or `start` is out of range.
   * @throws {TypeError} for a value of the wrong kind (nothing is written then).
   */
  async setSlice(start: number, values: Iterable<TypecodeInput<C>>): Promise<void> {
    const n = checkIndexInteger(start);
    const first = n < 0 ? n + this.count : n;
    if (values === null || typeof values !== "object" && typeof values !== "string" || !(Symbol.iterator in Object(values))) {
      throw new TypeError("setSlice needs an iterable of values");
    }
    const items = Array.from(values as Iterable<unknown>, (v) => coerce(this.typecode, v));
    if (first < 0 || first > this.count) throw new RangeError(`start ${n} out of range for an array of length ${this.count}`);
    if (first + items.length > this.count) {
      throw new RangeError(`${items.length} values from index ${first} run past the end of an array of length ${this.count}`);
    }
    if (items.length > 0) await this.writeItems(first, items);
  }

  /** The items' bytes, packed little-endian (for `'c'` arrays: the byte string). */
  toBytes(): Promise<Uint8Array> {
    return this.readBytes(0, this.count);
  }
}

/**
 * A fixed-size C-typed array in Redis with a lock for compound updates
 * (Python's `multiprocessing.Array`).
 *
 * @example
 * ```ts
 * import { SharedArray } from "./mod.ts";
 * const totals = new SharedArray("d", [1.5, 2.5, 3]);
 * const lock = totals.getLock();
 * await lock.acquire();
 * try {
 *   await totals.set(0, (await totals.get(0)) * 2);
 * } finally {
 *   await lock.release();
 * }
 * console.assert((await totals.toArray()).join() === "3,2.5,3");
 * ```
 */
export class SharedArray<C extends Typecode = Typecode> extends RawArray<C> {
  /**
   * A new fixed-length array of C type `typecode`, with a lock (see `options`).
   * @param typecode a C typecode: `'i'`, `'d'`, `'B'`, `'c'`…
   * @param sizeOrValues a size (zero-initialised), or the initial items.
   * @param options `{ lock }`: `true` (a new RLock, the default), `false`, or a Lock/RLock.
   * @throws {TypeError} "bad typecode", bad contents, a `lock` that is not a boolean, Lock or RLock, or an unknown option.
   * @throws {RangeError} for a size that is negative, fractional, or more than one Redis string holds.
   */
  constructor(typecode: C, sizeOrValues: ArrayInit<C>, options?: SynchronizedOptions) {
    if (incomingArray === undefined) {
      const code = typecodeInfo(typecode).code;
      const values = initialValues(code, sizeOrValues, "SharedArray");
      const seed = seedOf(code, values);
      incomingArray = { count: values.length, seed, lock: lockFromOption(options, "SharedArray"), raw: false };
    }
    super(typecode, sizeOrValues);
  }

  /**
   * The lock that guards compound updates.
   * @throws {StateError} for an array made with `lock: false`.
   */
  getLock(): LockLike {
    return this.lockOrThrow();
  }
}

function arrayFromRecord(record: HandleRecord): RawArray {
  const p = packedFromOpts(record.opts);
  return restoreHandle(record, () => {
    incomingArray = { count: p.count, seed: p.seed, lock: p.lock, raw: p.raw };
    try {
      return p.raw ? new RawArray(p.typecode, 0) : new SharedArray(p.typecode, 0);
    } finally {
      incomingArray = undefined;
    }
  });
}

registerStateHandle("array", RawArray, (a) => a.packedOpts(), arrayFromRecord);
registerStateHandle("array.synchronized", SharedArray, (a) => a.packedOpts(), arrayFromRecord);
