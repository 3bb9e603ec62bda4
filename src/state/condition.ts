/**
 * `Condition` in Redis: waiters queue in FIFO order, each on its own wake
 * list; `notify(n)` wakes exactly n current waiters and is never saved for
 * later ones.
 *
 * @module
 */
import { StateError } from "../errors.ts";
import { handleFromRecord, handleRecord, registerStateHandle, restoreHandle, StateHandle, type HandleRecord } from "./handle.ts";
import { keepLease, newToken, waitForWake, type AcquireOptions } from "./lease.ts";
import { ACQUIRE_RESTORE, HELD_HERE, Lock, RELEASE_SAVE, RLock } from "./lock.ts";
import { COND_CANCEL, COND_NOTIFY, COND_REGISTER } from "./lua/condition.ts";
import { checkFunction, checkInteger, checkTimeout, show } from "../validate.ts";

/**
 * A condition variable shared through Redis (Python's
 * `multiprocessing.Condition`). Its lock (an `RLock` unless one is given)
 * must be held, by this handle's process, to `wait` or `notify`.
 *
 * @example
 * ```ts
 * import { Condition } from "./mod.ts";
 * const cond = new Condition();
 * await cond.acquire();
 * console.assert(await cond.wait(10) === false); // nobody notified
 * await cond.notify(); // nobody waits: not saved for later
 * await cond.release();
 * ```
 */
export class Condition extends StateHandle {
  readonly #lock: Lock | RLock;

  /**
   * A new condition variable over `lock`.
   * @param lock the lock to use (default: a new `RLock`).
   * @throws {TypeError} when `lock` is not a `Lock` or `RLock`.
   */
  constructor(lock?: Lock | RLock) {
    super("condition");
    if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
      throw new TypeError(`Condition lock must be a Lock or an RLock, got ${show(lock)}`);
    }
    this.#lock = lock ?? new RLock();
  }

  /** The underlying lock. */
  get lock(): Lock | RLock {
    return this.#lock;
  }

  #keys(): string[] {
    return [this.key("waiters"), this.key("wlease")];
  }

  /** Acquires the underlying lock (same options as `Lock.acquire`). */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Releases the underlying lock. @throws {StateError} as the lock's `release`. */
  release(): Promise<void> {
    return this.#lock.release();
  }

  #checkHeld(what: string): void {
    if (!this.#lock[HELD_HERE]()) throw new StateError(`cannot ${what} on un-acquired lock`);
  }

  /**
   * Releases the lock, waits until notified or until `timeout` ms pass,
   * re-acquires the lock, and tells whether it was notified.
   *
   * @throws {StateError} if the lock is not held here.
   * @throws {TypeError} for a bad timeout.
   */
  async wait(timeout?: number): Promise<boolean> {
    const t = checkTimeout("Condition.wait timeout", timeout);
    this.#checkHeld("wait");
    const ctx = this.ctx;
    const keys = this.#keys();
    const wake = this.key(`w:${newToken()}`);
    await ctx.run(COND_REGISTER, [...keys, wake], [wake, ctx.leaseMs]);
    const stopLease = keepLease(ctx, keys[1], wake, undefined, [keys[0]]);
    let depth: number | undefined;
    try {
      let notified = false;
      try {
        depth = await this.#lock[RELEASE_SAVE]();
        notified = (await waitForWake(ctx, wake, t, keys)) !== null;
      } finally {
        // A waiter that gives up leaves the queue at once, so it cannot
        // swallow a later notify; if a notify reached it first, it counts.
        if (!notified) notified = (await ctx.run<number>(COND_CANCEL, [...keys, wake], [wake])) === 1;
      }
      return notified;
    } finally {
      stopLease();
      if (depth !== undefined) await this.#lock[ACQUIRE_RESTORE](depth);
    }
  }

  /**
   * Waits until `predicate()` (which may be async) is truthy, re-checking
   * after every wake-up, for at most `timeout` ms; returns its last value.
   *
   * @throws {StateError} if the lock is not held here.
   * @throws {TypeError} for a predicate that is not a function or a bad timeout.
   */
  async waitFor<T>(predicate: () => T | Promise<T>, timeout?: number): Promise<T> {
    checkFunction("Condition.waitFor predicate", predicate);
    const t = checkTimeout("Condition.waitFor timeout", timeout);
    const deadline = t === undefined ? undefined : performance.now() + t;
    let result = await predicate();
    while (!result) {
      let wait: number | undefined;
      if (deadline !== undefined) {
        wait = deadline - performance.now();
        if (wait <= 0) break;
      }
      await this.wait(wait);
      result = await predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` processes waiting now (later waiters are not affected).
   *
   * @throws {StateError} if the lock is not held here.
   * @throws {TypeError|RangeError} for n that is not an integer >= 0.
   */
  async notify(n = 1): Promise<void> {
    checkInteger("Condition.notify n", n, { min: 0 });
    this.#checkHeld("notify");
    if (n === 0) return;
    await this.ctx.run(COND_NOTIFY, this.#keys(), [n]);
  }

  /** Wakes every process waiting now. @throws {StateError} if the lock is not held here. */
  async notifyAll(): Promise<void> {
    this.#checkHeld("notify");
    await this.ctx.run(COND_NOTIFY, this.#keys(), [-1]);
  }
}

registerStateHandle(
  "condition",
  Condition,
  (c) => ({ lockKind: c.lock.kind, lock: handleRecord(c.lock) }),
  (r) => {
    const lock = handleFromRecord(String(r.opts.lockKind), r.opts.lock as HandleRecord) as Lock | RLock;
    return restoreHandle(r, () => new Condition(lock));
  },
);
