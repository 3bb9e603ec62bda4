/**
 * `Semaphore` and `BoundedSemaphore` in Redis, with leases: every permit
 * taken is a lease that the live holder renews in the background; a holder
 * that dies gives its permits back within `leaseMs`. A release hands its
 * permits straight to the oldest blocked acquirers (see
 * `src/state/lua/semaphore.ts`), so a woken acquirer returns as soon as
 * Redis answers its BLPOP.
 *
 * @module
 */
import { registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { TimeoutError } from "../errors.ts";
import { checkAcquireOptions, commandDeadline, keepLease, newToken, type AcquireOptions } from "./lease.ts";
import { SEM_ACQUIRE, SEM_RELEASE, SEM_VALUE } from "./lua/semaphore.ts";
import { checkInteger } from "../validate.ts";

export type { AcquireOptions } from "./lease.ts";

/**
 * How long past the end of its BLPOP a waiter stays eligible for a
 * hand-off: covers the time its give-up (or retry) script takes to reach
 * Redis, so a permit handed to it in that gap is seen and kept, not lost.
 */
const WAITER_GRACE_MS = 2000;

/**
 * What Semaphore and BoundedSemaphore share: a counter of free permits, a
 * lease per permit taken, and a FIFO of blocked acquirers to which
 * releases hand permits directly. `mod.ts` exports it as a type only,
 * for the members its subclasses share.
 */
export abstract class SemLock extends StateHandle {
  /** The initial number of permits. */
  readonly initialValue: number;
  readonly #bound: number;
  readonly #overRelease: string;
  // Leases taken through this handle in this process, oldest first.
  #tokens: string[] = [];
  #stops = new Map<string, () => void>();
  #keyCache?: string[];

  /** @ignore */
  protected constructor(kind: string, value: number, bounded: boolean, overRelease: string) {
    super(kind);
    this.initialValue = value;
    this.#bound = bounded ? value : -1;
    this.#overRelease = overRelease;
  }

  #keys(): string[] {
    return (this.#keyCache ??= [this.key(), this.key("leases"), this.key("waiters"), this.key("waitdl")]);
  }

  /**
   * Whether this handle, in this process, holds at least one permit.
   * @ignore
   */
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
   * that many ms. A blocked acquirer waits in Redis on its own wake key and
   * is handed the permit by the release itself (oldest waiter first).
   *
   * @throws {TypeError} for bad options.
   * @throws {SkypoolError} when Redis cannot be reached.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    const { block, timeout } = checkAcquireOptions(options, `${this.constructor.name}.acquire`);
    const ctx = this.ctx;
    const keys = this.#keys();
    // The wake key doubles as the lease member of the permit we get.
    const me = this.key(`w.${newToken()}`);
    const leaseMs = ctx.leaseMs;
    const deadline = timeout === undefined ? undefined : performance.now() + timeout;
    const slice = (ctx.expirySeconds * 1000) / 2;
    // A long wait is cut into slices: each retry refreshes the keys' expiry
    // and the waiter's registration.
    const waitFor = () => Math.min(slice, deadline === undefined ? Infinity : deadline - performance.now());
    const mode = block && (timeout === undefined || timeout > 0) ? "wait" : "try";
    // A run that Redis makes for a call that gave up on it (timeout passed,
    // Redis frozen) may take a permit nobody here holds: give it back.
    const by = commandDeadline(timeout);
    // At most one permit is ever held by `me`, so it is given back once
    // (the given-up run and the cancel after it may both report it).
    let undone = false;
    const undo = (late: unknown) => {
      if (Array.isArray(late) && late[0] === 1 && !undone) {
        undone = true;
        void ctx.run(SEM_RELEASE, keys, [this.initialValue, 1, this.#bound, this.#overRelease, me]).catch(() => {});
      }
    };
    const run = (m: string, waitMs: number, deadline = by) =>
      ctx.run<[number, number]>(SEM_ACQUIRE, [...keys, me], [this.initialValue, me, leaseMs, m, waitMs], { deadline, undo });
    let ok = false;
    try {
      ok = await this.#waitLoop(run, mode, me, deadline, waitFor, by);
    } catch (err) {
      if (!(err instanceof TimeoutError) || timeout === undefined) throw err;
      // Redis did not answer in time: leave the queue once it does (a
      // permit handed over meanwhile goes back).
      void run("cancel", 0, undefined).then(undo, () => {});
    }
    if (ok) {
      this.#tokens.push(me);
      this.#stops.set(me, keepLease(ctx, keys[1], me, () => this.#forget(me), [keys[0], keys[2], keys[3]]));
    }
    return ok;
  }

  // The acquire loop: try; in "wait" mode block on our wake key for a
  // hand-off until the deadline, then leave the queue ("cancel").
  async #waitLoop(
    attempt: (mode: string, waitMs: number) => Promise<[number, number]>,
    mode: string,
    me: string,
    deadline: number | undefined,
    waitFor: () => number,
    by: number | undefined,
  ): Promise<boolean> {
    for (;;) {
      const [got, next] = await attempt(mode, Math.ceil(Math.max(0, waitFor())) + WAITER_GRACE_MS);
      if (got === 1) return true;
      if (mode !== "wait") return false;
      let wait = waitFor();
      // A holder's lease may run out first (it died): its permit is handed on
      // by whichever script reaps it, so wake up then and run one.
      if (next >= 0) wait = Math.min(wait, next + 5);
      if (wait <= 0) {
        mode = "cancel";
        continue;
      }
      let woken;
      try {
        woken = await this.ctx.blpop([me], Math.max(1, wait), { deadline: by });
      } catch (err) {
        if (err instanceof TimeoutError) throw err;
        // Leave the queue; a permit handed over meanwhile is ours to keep.
        const kept = await attempt("cancel", 0).catch(() => [0, 0]);
        if (kept[0] !== 1) throw err;
        return true;
      }
      if (woken !== null) return true;
      if (deadline !== undefined && deadline - performance.now() <= 0) mode = "cancel";
    }
  }

  /**
   * Gives back `n` permits (any process may release, as in CPython); they go
   * to the oldest blocked acquirers first.
   *
   * @throws {TypeError|RangeError} (rejects) for an n that is not an integer >= 1.
   * @throws {StateError} when a bounded semaphore would go above its initial value.
   */
  async release(n = 1): Promise<void> {
    checkInteger(`${this.constructor.name}.release n`, n, { min: 1 });
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
   * A new semaphore holding `value` permits.
   * @param value the initial number of permits (default 1).
   * @throws {TypeError|RangeError} for a value that is not an integer >= 0.
   */
  constructor(value = 1) {
    super("semaphore", checkInteger("Semaphore value", value, { min: 0 }), false, "");
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
   * A new bounded semaphore holding `value` permits, which is also its most.
   * @param value the initial (and largest) number of permits (default 1).
   * @throws {TypeError|RangeError} for a value that is not an integer >= 0.
   */
  constructor(value = 1) {
    super("bsemaphore", checkInteger("BoundedSemaphore value", value, { min: 0 }), true, "semaphore or lock released too many times");
  }
}

registerStateHandle("semaphore", Semaphore, (s) => ({ value: s.initialValue }), (r) =>
  restoreHandle(r, () => new Semaphore(Number(r.opts.value ?? 1))));
registerStateHandle("bsemaphore", BoundedSemaphore, (s) => ({ value: s.initialValue }), (r) =>
  restoreHandle(r, () => new BoundedSemaphore(Number(r.opts.value ?? 1))));

