/**
 * `Semaphore` and `BoundedSemaphore` in Redis, with leases: every permit
 * taken is a lease that the live holder renews in the background; a holder
 * that dies gives its permits back within `leaseMs`.
 *
 * @module
 */
import { registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { acquireLoop, checkAcquireOptions, keepLease, newToken, type AcquireOptions } from "./lease.ts";
import { SEM_ACQUIRE, SEM_RELEASE, SEM_VALUE } from "./lua/semaphore.ts";

export type { AcquireOptions } from "./lease.ts";

function checkCount(value: unknown, what: string, min: number): number {
  if (typeof value !== "number") throw new TypeError(`${what} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${value}`);
  return value;
}

/**
 * What Lock, Semaphore and BoundedSemaphore share: a counter of free
 * permits and a lease per permit taken. Not exported from `mod.ts`.
 */
export abstract class SemLock extends StateHandle {
  /** The initial number of permits. */
  readonly initialValue: number;
  readonly #bound: number;
  readonly #overRelease: string;
  // Leases taken through this handle in this process, oldest first.
  #tokens: string[] = [];
  #stops = new Map<string, () => void>();

  protected constructor(kind: string, value: number, bounded: boolean, overRelease: string) {
    super(kind);
    this.initialValue = value;
    this.#bound = bounded ? value : -1;
    this.#overRelease = overRelease;
  }

  #keys(): string[] {
    return [this.key(), this.key("leases"), this.key("wake")];
  }

  /** Whether this handle, in this process, holds at least one permit. */
  protected heldHere(): boolean {
    return this.#tokens.length > 0;
  }

  #forget(token: string): void {
    const i = this.#tokens.indexOf(token);
    if (i >= 0) this.#tokens.splice(i, 1);
    this.#stops.get(token)?.();
    this.#stops.delete(token);
  }

  /**
   * Takes a permit. With `block: false` returns at once (the timeout is
   * ignored, as in CPython); with `timeout` returns `false` after about
   * that many ms.
   *
   * @throws {TypeError} for bad options.
   * @throws {SkypoolError} when Redis cannot be reached.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const { block, timeout } = checkAcquireOptions(options);
    const ctx = this.ctx;
    const keys = this.#keys();
    const token = newToken();
    const leaseMs = ctx.leaseMs;
    const ok = await acquireLoop(ctx, keys[2], async () => {
      const [got, n] = await ctx.run<[number, number]>(SEM_ACQUIRE, keys, [this.initialValue, token, leaseMs]);
      return got === 1 ? true : n;
    }, block, timeout);
    if (ok) {
      this.#tokens.push(token);
      this.#stops.set(token, keepLease(ctx, keys[1], token, () => this.#forget(token), [keys[0], keys[2]]));
    }
    return ok;
  }

  /**
   * Gives back `n` permits (any process may release, as in CPython).
   *
   * @throws {RangeError} for n < 1.
   * @throws {StateError} when a bounded semaphore (or a Lock) would go above its initial value.
   */
  async release(n = 1): Promise<void> {
    checkCount(n, "n", 1);
    const ended = await this.ctx.run<string[]>(SEM_RELEASE, this.#keys(), [
      this.initialValue,
      n,
      this.#bound,
      this.#overRelease,
      ...this.#tokens,
    ]);
    for (const token of ended) this.#forget(token);
  }

  /** The number of free permits now. */
  async getValue(): Promise<number> {
    return await this.ctx.run<number>(SEM_VALUE, this.#keys(), [this.initialValue]);
  }
}

/**
 * A counting semaphore shared through Redis (Python's
 * `multiprocessing.Semaphore`). `release()` may raise the value above its
 * initial value.
 *
 * @example
 * ```ts
 * import { Semaphore } from "./mod.ts";
 * const sem = new Semaphore(2);
 * await sem.acquire();
 * console.assert(await sem.getValue() === 1);
 * await sem.release();
 * ```
 */
export class Semaphore extends SemLock {
  /**
   * @param value the initial number of permits (default 1).
   * @throws {TypeError|RangeError} for a value that is not an integer >= 0.
   */
  constructor(value = 1) {
    super("semaphore", checkCount(value, "value", 0), false, "");
  }
}

/**
 * A semaphore that refuses to go above its initial value (Python's
 * `multiprocessing.BoundedSemaphore`).
 *
 * @example
 * ```ts
 * import { BoundedSemaphore, StateError } from "./mod.ts";
 * const sem = new BoundedSemaphore(1);
 * try { await sem.release(); } catch (e) { console.assert(e instanceof StateError); }
 * ```
 */
export class BoundedSemaphore extends SemLock {
  /**
   * @param value the initial (and largest) number of permits (default 1).
   * @throws {TypeError|RangeError} for a value that is not an integer >= 0.
   */
  constructor(value = 1) {
    super("bsemaphore", checkCount(value, "value", 0), true, "semaphore or lock released too many times");
  }
}

registerStateHandle("semaphore", Semaphore, (s) => ({ value: s.initialValue }), (r) =>
  restoreHandle(r, () => new Semaphore(Number(r.opts.value ?? 1))));
registerStateHandle("bsemaphore", BoundedSemaphore, (s) => ({ value: s.initialValue }), (r) =>
  restoreHandle(r, () => new BoundedSemaphore(Number(r.opts.value ?? 1))));

