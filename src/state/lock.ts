/**
 * `Lock` and `RLock` in Redis, with leases renewed by the holder's
 * watchdog: a holder that dies frees the lock within `leaseMs`.
 *
 * @module
 */
import { registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { acquireLoop, checkAcquireOptions, keepLease, newToken, type AcquireOptions } from "./lease.ts";
import { RLOCK_ACQUIRE, RLOCK_RELEASE, RLOCK_STATE } from "./lua/lock.ts";
import { SemLock } from "./semaphore.ts";

/** Internal protocol a Condition uses on its lock (not part of the public API). */
export const HELD_HERE: unique symbol = Symbol("skypool.heldHere");
/** Releases every level and resolves the depth released (internal). */
export const RELEASE_SAVE: unique symbol = Symbol("skypool.releaseSave");
/** Re-acquires `depth` levels, waiting as long as needed (internal). */
export const ACQUIRE_RESTORE: unique symbol = Symbol("skypool.acquireRestore");

/**
 * A mutual-exclusion lock shared through Redis (Python's
 * `multiprocessing.Lock`). As in CPython, any process may release it;
 * releasing an unlocked lock is a `StateError`.
 *
 * @example
 * ```ts
 * import { Lock } from "./mod.ts";
 * const lock = new Lock();
 * console.assert(await lock.acquire());
 * console.assert(await lock.acquire({ block: false }) === false);
 * await lock.release();
 * console.assert(!(await lock.locked()));
 * ```
 */
export class Lock extends SemLock {
  constructor() {
    super("lock", 1, true, "release unlocked lock");
  }

  /**
   * Acquires the lock: `{ block = true, timeout? }` as in CPython (the
   * timeout is ignored when `block` is false).
   * @throws {TypeError} for bad options.
   * @throws {SkypoolError} when Redis cannot be reached.
   */
  override acquire(options?: AcquireOptions): Promise<boolean> {
    return super.acquire(options);
  }

  /**
   * Releases the lock (whoever acquired it).
   * @throws {StateError} if the lock is not locked.
   */
  override release(): Promise<void> {
    return super.release(1);
  }

  /** Whether some process holds the lock now. */
  async locked(): Promise<boolean> {
    return (await this.getValue()) === 0;
  }

  /** @internal */
  [HELD_HERE](): boolean {
    return this.heldHere();
  }

  /** @internal */
  async [RELEASE_SAVE](): Promise<number> {
    await this.release();
    return 1;
  }

  /** @internal */
  async [ACQUIRE_RESTORE](_depth: number): Promise<void> {
    await this.acquire();
  }
}

/**
 * A re-entrant lock shared through Redis (Python's
 * `multiprocessing.RLock`). Its owner is one handle object in one process
 * (every copy of the handle that arrives in a worker is a different
 * owner); the owner may acquire it again, and must release it as many
 * times. Releasing it from anywhere else is a `StateError`.
 *
 * @example
 * ```ts
 * import { RLock } from "./mod.ts";
 * const lock = new RLock();
 * await lock.acquire();
 * await lock.acquire();
 * await lock.release();
 * console.assert(await lock.locked());
 * await lock.release();
 * console.assert(!(await lock.locked()));
 * ```
 */
export class RLock extends StateHandle {
  // This handle's owner token (one per handle object per process).
  readonly #me = newToken();
  #depth = 0;
  #stopLease?: () => void;

  constructor() {
    super("rlock");
  }

  #keys(): string[] {
    return [this.key(), this.key("leases"), this.key("wake")];
  }

  async #acquire(levels: number, block: boolean, timeout: number | undefined): Promise<boolean> {
    const ctx = this.ctx;
    const keys = this.#keys();
    const leaseMs = ctx.leaseMs;
    let depth = 0;
    const ok = await acquireLoop(ctx, keys[2], async () => {
      const [got, n] = await ctx.run<[number, number]>(RLOCK_ACQUIRE, keys, [this.#me, leaseMs, levels]);
      if (got === 1) {
        depth = n;
        return true;
      }
      return n;
    }, block, timeout);
    if (ok) {
      this.#depth = depth;
      this.#stopLease ??= keepLease(ctx, keys[1], this.#me, () => {
        this.#depth = 0;
        this.#stopLease = undefined;
      }, [keys[0], keys[2]]);
    }
    return ok;
  }

  /**
   * Acquires the lock, or enters it once more if this handle owns it.
   * @throws {TypeError} for bad options.
   * @throws {SkypoolError} when Redis cannot be reached.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    const { block, timeout } = checkAcquireOptions(options);
    return this.#acquire(1, block, timeout);
  }

  #released(left: number): void {
    this.#depth = left;
    if (left === 0) {
      this.#stopLease?.();
      this.#stopLease = undefined;
    }
  }

  /**
   * Leaves one level; the lock is free once every level is left.
   * @throws {StateError} if this handle does not own the lock.
   */
  async release(): Promise<void> {
    const left = await this.ctx.run<number>(RLOCK_RELEASE, this.#keys(), [this.#me, "1"]);
    this.#released(left);
  }

  /** Whether some owner holds the lock now. */
  async locked(): Promise<boolean> {
    const [locked] = await this.ctx.run<[number, number]>(RLOCK_STATE, this.#keys(), [this.#me]);
    return locked === 1;
  }

  /** @internal */
  [HELD_HERE](): boolean {
    return this.#depth > 0;
  }

  /** @internal */
  async [RELEASE_SAVE](): Promise<number> {
    const depth = await this.ctx.run<number>(RLOCK_RELEASE, this.#keys(), [this.#me, "all"]);
    this.#released(0);
    return depth;
  }

  /** @internal */
  async [ACQUIRE_RESTORE](depth: number): Promise<void> {
    await this.#acquire(depth, true, undefined);
  }
}

registerStateHandle("lock", Lock, () => ({}), (r) => restoreHandle(r, () => new Lock()));
registerStateHandle("rlock", RLock, () => ({}), (r) => restoreHandle(r, () => new RLock()));
