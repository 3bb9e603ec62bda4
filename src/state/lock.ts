/**
 * `Lock` and `RLock` in Redis, with leases renewed by the holder's
 * watchdog: a holder that dies frees the lock within `leaseMs`.
 *
 * @module
 */
import { registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { TimeoutError } from "../errors.ts";
import { acquireLoop, checkAcquireOptions, commandDeadline, keepLease, keepOwnerLease, newToken, type AcquireOptions } from "./lease.ts";
import { LOCK_RELEASE, LOCK_TAKE, LOCK_TRY, RLOCK_ACQUIRE, RLOCK_RELEASE, RLOCK_STATE } from "./lua/lock.ts";

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
 * The lock is one Redis key holding the holder's token, whose expiry is the
 * holder's lease (renewed by the holder's watchdog): an uncontended
 * `acquire()` is one short script (`SET NX PX`) and `release()` another. Blocked
 * acquirers wait in Redis (BLPOP) for the wake-up token a release leaves,
 * or until the holder's lease runs out (a dead holder).
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
export class Lock extends StateHandle {
  // Ownerships taken through this handle in this process (token → stops its
  // watchdog). At most one is live in Redis; a stale one is dropped when its
  // release is seen or its watchdog finds it gone.
  #held = new Map<string, () => void>();
  #keyCache?: [owner: string, wake: string];

  constructor() {
    super("lock");
  }

  #keys(): [string, string] {
    return (this.#keyCache ??= [this.key("owner"), this.key("wake")]);
  }

  #took(token: string, leaseMs: number): void {
    const stop = keepOwnerLease(this.ctx, this.#keys()[0], token, leaseMs, () => this.#held.delete(token));
    this.#held.set(token, stop);
  }

  /**
   * Acquires the lock: `{ block = true, timeout? }` as in CPython (the
   * timeout is ignored when `block` is false).
   * @throws {TypeError} for bad options.
   * @throws {SkypoolError} when Redis cannot be reached.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const { block, timeout } = checkAcquireOptions(options, "Lock.acquire");
    const ctx = this.ctx;
    const keys = this.#keys();
    const token = newToken();
    const leaseMs = ctx.leaseMs;
    // An attempt that Redis runs for a call that gave up on it (timeout
    // passed, Redis frozen) may take the lock: nobody holds it here, so free it.
    const abandon = (late: unknown) => {
      if (late === 1 || (Array.isArray(late) && late[0] === 1)) void ctx.run(LOCK_RELEASE, keys, [RELEASE_UNLOCKED, token]).catch(() => {});
    };
    // Fast path: a free lock is taken in one short script.
    let fast;
    try {
      fast = await ctx.run<number>(LOCK_TAKE, [keys[0]], [token, leaseMs], { deadline: commandDeadline(timeout), undo: abandon });
    } catch (err) {
      if (err instanceof TimeoutError && timeout !== undefined) return false;
      throw err;
    }
    if (fast === 1) {
      this.#took(token, leaseMs);
      return true;
    }
    if (!block || (timeout !== undefined && timeout <= 0)) return false;
    const ok = await acquireLoop(ctx, keys[1], async (deadline) => {
      const [got, ttl] = await ctx.run<[number, number]>(LOCK_TRY, keys, [token, leaseMs], { deadline, undo: abandon });
      return got === 1 ? true : ttl;
    }, block, timeout);
    if (ok) this.#took(token, leaseMs);
    return ok;
  }

  /**
   * Releases the lock (whoever acquired it).
   * @throws {StateError} if the lock is not locked.
   */
  async release(): Promise<void> {
    const owner = await this.ctx.run<string>(LOCK_RELEASE, this.#keys(), [RELEASE_UNLOCKED, ""]);
    const stop = this.#held.get(owner);
    if (stop !== undefined) {
      this.#held.delete(owner);
      stop();
    }
  }

  /** Whether some process holds the lock now. */
  async locked(): Promise<boolean> {
    return (await this.ctx.command<number>(["EXISTS", this.#keys()[0]])) === 1;
  }

  /** @internal */
  [HELD_HERE](): boolean {
    return this.#held.size > 0;
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

const RELEASE_UNLOCKED = "release unlocked lock";

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
    // An attempt that Redis runs for a call that gave up on it (timeout
    // passed, Redis frozen) may enter: leave those levels again.
    const abandon = (late: unknown) => {
      if (Array.isArray(late) && late[0] === 1) {
        for (let i = 0; i < levels; i++) void ctx.run(RLOCK_RELEASE, keys, [this.#me, "1"]).catch(() => {});
      }
    };
    const ok = await acquireLoop(ctx, keys[2], async (deadline) => {
      const [got, n] = await ctx.run<[number, number]>(RLOCK_ACQUIRE, keys, [this.#me, leaseMs, levels], { deadline, undo: abandon });
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
    const { block, timeout } = checkAcquireOptions(options, "RLock.acquire");
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
