/**
 * `Barrier` in Redis, with a generation counter that keeps passes apart.
 *
 * @module
 */
import { BrokenBarrierError } from "../errors.ts";
import { loadFunction, shipFunction, type FunctionRef, type TaskFn } from "../task/function_ref.ts";
import { registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { newToken, waitForWake } from "./lease.ts";
import { checkInteger, checkOptions, checkTaskFn, checkTimeout } from "../validate.ts";
import { BARRIER_ABORT, BARRIER_ARRIVE, BARRIER_INFO, BARRIER_PASS, BARRIER_RESET, BARRIER_TIMEOUT } from "./lua/barrier.ts";

/** Options of {@link Barrier}. */
export interface BarrierOptions {
  /**
   * Run once per pass, by the party that completes the barrier, before
   * any party is released. If it throws, the barrier breaks and that party
   * gets the error. A barrier with an action can travel to a worker only
   * if the action can be shipped (a self-contained function or a
   * `task(moduleUrl, name)` reference); otherwise encoding it is a
   * `SerializationError`.
   */
  action?: TaskFn;
  /** Default timeout (ms) of `wait()`. @default undefined (wait forever) */
  timeout?: number;
}

/**
 * A barrier for a fixed number of parties, shared through Redis (Python's
 * `multiprocessing.Barrier`). `wait()` resolves each party's arrival index
 * (exactly one party gets 0); abort, reset and a timeout break it for
 * every party with `BrokenBarrierError`.
 *
 * @example
 * ```ts
 * import { Barrier } from "./mod.ts";
 * const barrier = new Barrier(2);
 * const indices = await Promise.all([barrier.wait(), barrier.wait()]);
 * console.assert(indices.sort().join() === "0,1");
 * ```
 */
export class Barrier extends StateHandle {
  readonly #parties: number;
  readonly #timeout: number | undefined;
  readonly #action: TaskFn | undefined;
  #shipped?: FunctionRef;
  #loaded?: Promise<(...args: unknown[]) => unknown>;

  /**
   * A new barrier that releases its waiters once `parties` of them wait.
   * @throws {TypeError|RangeError} for parties that is not an integer >= 1,
   *   an action that is not a function or `task()` reference, a bad
   *   timeout, or an unknown option.
   */
  constructor(parties: number, options: BarrierOptions = {}) {
    super("barrier");
    this.#parties = checkInteger("Barrier parties", parties, { min: 1 });
    const o = checkOptions<BarrierOptions>("Barrier options", options, ["action", "timeout"]);
    if (o.action !== undefined) checkTaskFn("Barrier action", o.action);
    this.#timeout = checkTimeout("Barrier timeout", o.timeout);
    this.#action = o.action;
  }

  /** @internal Restores a shipped action (worker side). */
  static _withShippedAction(b: Barrier, ref: FunctionRef | undefined): Barrier {
    b.#shipped = ref;
    return b;
  }

  /** The number of parties. */
  get parties(): number {
    return this.#parties;
  }

  /** The default timeout (ms) of `wait()`, or `undefined`. */
  get timeout(): number | undefined {
    return this.#timeout;
  }

  /** @internal The shippable form of the action (throws SerializationError). */
  _shippedAction(): FunctionRef | undefined {
    if (this.#shipped) return this.#shipped;
    if (this.#action === undefined) return undefined;
    this.#shipped = shipFunction(this.#action);
    return this.#shipped;
  }

  #keys(): string[] {
    return [this.key(), this.key("waiters")];
  }

  async #runAction(): Promise<void> {
    const action = this.#action;
    if (typeof action === "function") {
      await action();
      return;
    }
    const ref = action !== undefined ? shipFunction(action) : this.#shipped;
    if (ref === undefined) return;
    this.#loaded ??= loadFunction(ref);
    await (await this.#loaded)();
  }

  /**
   * Waits until `parties` parties have called `wait()`; resolves this
   * party's arrival index (0 … parties-1).
   *
   * @param timeout ms (default: the barrier's timeout); when it passes the
   *   barrier breaks for everyone.
   * @throws {BrokenBarrierError} if the barrier is or becomes broken (abort, reset, timeout, failed action).
   * @throws {TypeError|RangeError} for a bad timeout.
   */
  async wait(timeout?: number): Promise<number> {
    const t = timeout === undefined ? this.#timeout : checkTimeout("Barrier.wait timeout", timeout);
    const ctx = this.ctx;
    const keys = this.#keys();
    const wake = this.key(`w:${newToken()}`);
    const arrived = await ctx.run<number[]>(BARRIER_ARRIVE, [...keys, wake], [this.#parties, wake]);
    if (arrived[0] === -1) throw new BrokenBarrierError("the barrier is broken");
    const [index, gen, last] = arrived;
    if (last === 1) {
      try {
        await this.#runAction();
      } catch (err) {
        await ctx.run(BARRIER_ABORT, keys, []);
        throw err;
      }
      if ((await ctx.run<number>(BARRIER_PASS, keys, [gen])) !== 1) {
        throw new BrokenBarrierError("the barrier was broken while its action ran");
      }
      return index;
    }
    let message: string | undefined;
    try {
      const got = await waitForWake(ctx, wake, t, keys);
      if (got !== null) message = String(got);
    } finally {
      message ??= await ctx.run<string>(BARRIER_TIMEOUT, [...keys, wake], [gen, wake]);
    }
    if (message !== "ok") throw new BrokenBarrierError(t !== undefined ? `the barrier broke (timeout ${t} ms, abort or reset)` : "the barrier broke (abort or reset)");
    return index;
  }

  /** Breaks the barrier: current and later waiters get `BrokenBarrierError` until `reset()`. */
  async abort(): Promise<void> {
    await this.ctx.run(BARRIER_ABORT, this.#keys(), []);
  }

  /** Returns the barrier to its initial state; current waiters get `BrokenBarrierError`. */
  async reset(): Promise<void> {
    await this.ctx.run(BARRIER_RESET, this.#keys(), []);
  }

  /** How many parties wait in the current generation. */
  async nWaiting(): Promise<number> {
    const [count, broken] = await this.ctx.run<number[]>(BARRIER_INFO, this.#keys(), []);
    return broken === 1 ? 0 : count;
  }

  /** Whether the barrier is broken. */
  async broken(): Promise<boolean> {
    const [, broken] = await this.ctx.run<number[]>(BARRIER_INFO, this.#keys(), []);
    return broken === 1;
  }
}

registerStateHandle(
  "barrier",
  Barrier,
  (b) => ({ parties: b.parties, timeout: b.timeout ?? null, action: b._shippedAction() ?? null }),
  (r) => {
    const timeout = typeof r.opts.timeout === "number" ? r.opts.timeout : undefined;
    const b = restoreHandle(r, () => new Barrier(Number(r.opts.parties), { timeout }));
    return Barrier._withShippedAction(b, (r.opts.action ?? undefined) as FunctionRef | undefined);
  },
);
