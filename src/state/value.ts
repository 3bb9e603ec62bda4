/**
 * `Value` and `RawValue`: one C-typed number (or char) shared through
 * Redis (Python's `multiprocessing.Value` / `RawValue`), plus the packed
 * storage they share with `SharedArray` / `RawArray`.
 *
 * Each `get()` and `set()` is one atomic Redis step, so the lock is not
 * taken for them (Python's synchronized wrapper takes it for every access;
 * in Redis that would cost four round trips and add nothing, since a single
 * read or write cannot tear). The lock is for compound updates, exactly as
 * in Python: `v.value += 1` is not atomic there either.
 *
 * ```ts
 * import { Value } from "./src/state/value.ts";
 * const counter = new Value("i", 0);
 * const lock = counter.getLock();
 * await lock.acquire();
 * try { await counter.set((await counter.get()) + 1); } finally { await lock.release(); }
 * console.assert(await counter.get() === 1);
 * ```
 *
 * @module
 */
import { StateError } from "../errors.ts";
import { handleFromRecord, handleRecord, type HandleRecord, registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { PACKED_READ, PACKED_WRITE } from "./lua/value.ts";
import { Lock, RLock } from "./lock.ts";
import { checkOptions, show } from "../validate.ts";
import { coerce, pack, type Typecode, type TypecodeInput, typecodeInfo, type TypecodeValue, unpack, zeroOf } from "./typecodes.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

/** A lock a `Value`/`SharedArray` can carry: a `Lock` or an `RLock`. */
export type LockLike = StateHandle & {
  acquire(options?: { block?: boolean; timeout?: number }): Promise<boolean>;
  release(): Promise<void>;
};

/** Options of `Value` and `SharedArray`. */
export interface SynchronizedOptions {
  /**
   * `true` (default): a new `RLock` (as Python); `false`: no lock
   * (`getLock()` then throws); or the `Lock`/`RLock` to use.
   */
  lock?: boolean | LockLike;
}

function isLockLike(v: unknown): v is LockLike {
  return v instanceof Lock || v instanceof RLock;
}

/** Turns the `lock` option of `owner` (`"Value"`, `"SharedArray"`) into a lock (or `null`). @internal */
export function lockFromOption(options: SynchronizedOptions | undefined, owner: string): LockLike | null {
  const lock = checkOptions<SynchronizedOptions>(`${owner} options`, options, ["lock"]).lock ?? true;
  if (lock === true) return new RLock();
  if (lock === false) return null;
  if (isLockLike(lock)) return lock;
  throw new TypeError(`${owner} lock must be true, false, a Lock or an RLock, got ${show(lock)}`);
}

/**
 * The initial content to seed Redis with: the packed values, or `null`
 * when they are all zero (a missing key reads as zeros).
 * @internal
 */
export function seedOf(typecode: Typecode, values: readonly unknown[]): Uint8Array | null {
  const bytes = pack(typecode, values);
  for (const b of bytes) if (b !== 0) return bytes;
  return null;
}

/**
 * The storage shared by Value, RawValue, SharedArray and RawArray: `count`
 * items of one typecode packed into one Redis string. Not public.
 * @internal
 */
export abstract class PackedState<C extends Typecode> extends StateHandle {
  /** The C typecode of the items. */
  readonly typecode: C;
  /** @internal bytes per item. */
  protected readonly itemSize: number;
  /** @internal number of items. */
  protected readonly count: number;
  // The initial content until a script has run with it (then Redis holds
  // it); null when it is all zeros, which a missing key reads as anyway.
  #seed: Uint8Array | null;
  #lock: LockLike | null;
  #raw: boolean;

  protected constructor(kind: string, typecode: C, count: number, seed: Uint8Array | null, lock: LockLike | null, raw: boolean) {
    super(kind);
    this.typecode = typecode;
    this.itemSize = typecodeInfo(typecode).size;
    this.count = count;
    this.#seed = seed;
    this.#lock = lock;
    this.#raw = raw;
  }

  /** @internal Reads `n` items from item `first`. */
  protected async readItems(first: number, n: number): Promise<TypecodeValue<C>[]> {
    if (n <= 0) return [];
    const seed = this.#seed;
    const bytes = await this.ctx.run<Uint8Array>(
      PACKED_READ,
      [this.key()],
      [seed ?? "", first * this.itemSize, n * this.itemSize],
      { binary: true },
    );
    if (seed === this.#seed) this.#seed = null;
    return unpack(this.typecode, bytes, n);
  }

  /** @internal Reads the raw bytes of `n` items from item `first`. */
  protected async readBytes(first: number, n: number): Promise<Uint8Array> {
    if (n <= 0) return new Uint8Array(0);
    const seed = this.#seed;
    const bytes = await this.ctx.run<Uint8Array>(
      PACKED_READ,
      [this.key()],
      [seed ?? "", first * this.itemSize, n * this.itemSize],
      { binary: true },
    );
    if (seed === this.#seed) this.#seed = null;
    const out = new Uint8Array(n * this.itemSize);
    out.set(bytes.subarray(0, out.length));
    return out;
  }

  /** @internal Writes already-coerced items from item `first`. */
  protected async writeItems(first: number, values: readonly unknown[]): Promise<void> {
    const seed = this.#seed;
    await this.ctx.run(PACKED_WRITE, [this.key()], [seed ?? "", first * this.itemSize, pack(this.typecode, values)]);
    if (seed === this.#seed) this.#seed = null;
  }

  /**
   * The lock, for `getLock()` of the synchronized classes.
   * @throws {StateError} for an object made with `lock: false`.
   */
  protected lockOrThrow(): LockLike {
    if (this.#lock === null) {
      throw new StateError(`this ${this.constructor.name} was created with lock: false and has no lock`);
    }
    return this.#lock;
  }

  /** @internal What the codec ships besides the location. */
  packedOpts(): Record<string, unknown> {
    const lock = this.#lock;
    return {
      typecode: this.typecode,
      count: this.count,
      seed: this.#seed === null ? null : nodeBuffer().from(this.#seed.buffer, this.#seed.byteOffset, this.#seed.byteLength).toString("base64"),
      raw: this.#raw,
      lockKind: lock === null ? null : lock.kind,
      lock: lock === null ? null : handleRecord(lock),
    };
  }
}

/** @internal Decodes the parts of a record {@link PackedState.packedOpts} wrote. */
export function packedFromOpts(opts: Record<string, unknown>): {
  typecode: Typecode;
  count: number;
  seed: Uint8Array | null;
  raw: boolean;
  lock: LockLike | null;
} {
  const typecode = typecodeInfo(opts.typecode).code;
  const count = Number(opts.count);
  if (!Number.isInteger(count) || count < 0) throw new TypeError("malformed record: count");
  const seed = typeof opts.seed === "string" ? new Uint8Array(nodeBuffer().from(opts.seed, "base64")) : null;
  let lock: LockLike | null = null;
  if (typeof opts.lockKind === "string" && opts.lock !== null && opts.lock !== undefined) {
    const h = handleFromRecord(opts.lockKind, opts.lock);
    if (!isLockLike(h)) throw new TypeError(`malformed record: ${opts.lockKind} is not a lock`);
    lock = h;
  }
  return { typecode, count, seed, raw: opts.raw === true, lock };
}

/**
 * One C-typed value in Redis, without a lock (Python's `RawValue`).
 *
 * @example
 * ```ts
 * import { RawValue } from "./mod.ts";
 * const v = new RawValue("i", 2 ** 31 - 1);
 * await v.set(2 ** 31);
 * console.assert(await v.get() === -(2 ** 31)); // wraps like a C int
 * const q = new RawValue("q", 2 ** 40);
 * console.assert(await q.get() === 2n ** 40n); // 64-bit codes read as bigint
 * ```
 */
export class RawValue<C extends Typecode = Typecode> extends PackedState<C> {
  /**
   * A new value of C type `typecode`, without a lock.
   * @param typecode a C typecode (see `src/state/typecodes.ts`): `'i'`, `'d'`, `'q'`, `'c'`…
   * @param initial the initial value (default: zero), coerced like C.
   * @throws {TypeError} "bad typecode", or an initial value of the wrong kind.
   * @throws {RangeError} for a `'c'`/`'u'` value that is not one character.
   */
  constructor(typecode: C, initial?: TypecodeInput<C>) {
    const init = incomingValue;
    incomingValue = undefined;
    const code = typecodeInfo(typecode).code as C;
    const parts = init ?? {
      seed: seedOf(code, [initial === undefined ? zeroOf(code) : coerce(code, initial)]),
      lock: null,
      raw: true,
    };
    super("value", code, 1, parts.seed, parts.lock, parts.raw);
  }

  /** The current value. @throws {SkypoolError} when Redis cannot be reached. */
  async get(): Promise<TypecodeValue<C>> {
    return (await this.readItems(0, 1))[0];
  }

  /**
   * Sets the value (wrapped or rounded like C).
   * @throws {TypeError|RangeError} for a value of the wrong kind (see `coerce`).
   */
  async set(value: TypecodeInput<C>): Promise<void> {
    const v = coerce(this.typecode, value);
    await this.writeItems(0, [v]);
  }
}

// Passes a decoded record's parts through the public constructors.
let incomingValue: { lock: LockLike | null; raw: boolean; seed: Uint8Array | null } | undefined;

/**
 * One C-typed value in Redis with a lock for compound updates (Python's
 * `multiprocessing.Value`). `get`/`set` are each atomic on their own;
 * hold {@link getLock} around read-modify-write sequences.
 *
 * @example
 * ```ts
 * import { Value } from "./mod.ts";
 * const hits = new Value("i", 0);
 * const lock = hits.getLock();
 * await lock.acquire();
 * try {
 *   await hits.set((await hits.get()) + 1);
 * } finally {
 *   await lock.release();
 * }
 * console.assert(await hits.get() === 1);
 * ```
 */
export class Value<C extends Typecode = Typecode> extends RawValue<C> {
  /**
   * A new value of C type `typecode`, with a lock (see `options`).
   * @param typecode a C typecode: `'i'`, `'d'`, `'q'`, `'c'`…
   * @param initial the initial value (default: zero).
   * @param options `{ lock }`: `true` (a new RLock, the default), `false`, or a Lock/RLock.
   * @throws {TypeError} "bad typecode", a bad initial value, a `lock` that is not a boolean, Lock or RLock, or an unknown option.
   */
  constructor(typecode: C, initial?: TypecodeInput<C>, options?: SynchronizedOptions) {
    if (incomingValue === undefined) {
      // Validate everything before a lock handle is made.
      const code = typecodeInfo(typecode).code as C;
      const v = initial === undefined ? zeroOf(code) : coerce(code, initial);
      const seed = seedOf(code, [v]);
      incomingValue = { lock: lockFromOption(options, "Value"), raw: false, seed };
    }
    super(typecode, initial);
  }

  /**
   * The lock that guards compound updates (the one passed as `lock`, or
   * the RLock made for it).
   * @throws {StateError} for a Value made with `lock: false` (Python gives it no `get_lock`).
   */
  getLock(): LockLike {
    return this.lockOrThrow();
  }
}

function valueFromRecord(record: HandleRecord): RawValue {
  const p = packedFromOpts(record.opts);
  return restoreHandle(record, () => {
    incomingValue = { lock: p.lock, raw: p.raw, seed: p.seed };
    try {
      return p.raw ? new RawValue(p.typecode) : new Value(p.typecode);
    } finally {
      incomingValue = undefined;
    }
  });
}

registerStateHandle("value", RawValue, (v) => v.packedOpts(), valueFromRecord);
registerStateHandle("value.synchronized", Value, (v) => v.packedOpts(), valueFromRecord);
