/**
 * `AsyncResult`: the handle of a job submitted with `applyAsync`,
 * `mapAsync` or `starmapAsync`, as CPython's `ApplyResult`/`MapResult`.
 *
 * @module
 */
import { StateError, TimeoutError } from "../errors.ts";
import { checkTimeout } from "../validate.ts";

/** Settles an {@link AsyncResult} (internal to skypool: pools call it). */
export let settleResult: <T>(result: AsyncResult<T>, ok: boolean, value: unknown) => void;

/**
 * The eventual result of a pool job. It is `PromiseLike`: `await
 * pool.applyAsync(f, [x])` gives the value. A failure is only reported to
 * whoever asks (`get`, `then`), so results nobody awaits raise no
 * unhandled-rejection warnings.
 *
 * @example
 * ```ts
 * import { Pool } from "./mod.ts";
 * const pool = new Pool(0);
 * const r = pool.applyAsync((x: number) => x * x, [7]);
 * await r.wait();
 * console.assert(r.ready() && r.successful() && (await r.get()) === 49);
 * ```
 */
export class AsyncResult<T> implements PromiseLike<T> {
  #state: 0 | 1 | 2 = 0;
  #value: unknown;
  #waiters: (() => void)[] = [];

  static {
    settleResult = <T>(r: AsyncResult<T>, ok: boolean, value: unknown) => r.#settle(ok, value);
  }

  #settle(ok: boolean, value: unknown): void {
    if (this.#state !== 0) return;
    this.#state = ok ? 1 : 2;
    this.#value = value;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Whether the job has finished (successfully or not). */
  ready(): boolean {
    return this.#state !== 0;
  }

  /**
   * Whether the job finished without an error.
   * @throws {StateError} when it has not finished yet.
   */
  successful(): boolean {
    if (this.#state === 0) throw new StateError("result is not ready");
    return this.#state === 1;
  }

  /**
   * Waits until the job finishes or `timeout` ms pass (never rejects).
   * @throws {TypeError|RangeError} for a timeout that is not a number, or NaN.
   */
  wait(timeout?: number): Promise<void> {
    const ms = checkTimeout("AsyncResult.wait timeout", timeout);
    if (this.#state !== 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(done);
      if (ms !== undefined) {
        timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== done);
          resolve();
        }, ms);
      }
    });
  }

  /**
   * The value, once the job has finished; rejects with the job's error. It
   * can be called any number of times.
   * @throws {TimeoutError} (rejects) when not finished within `timeout` ms; the result stays retrievable.
   * @throws {TypeError|RangeError} for a timeout that is not a number, or NaN.
   */
  get(timeout?: number): Promise<T> {
    let ms: number | undefined;
    try {
      ms = checkTimeout("AsyncResult.get timeout", timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#state === 1) return Promise.resolve(this.#value as T);
    if (this.#state === 2) return Promise.reject(this.#value);
    return this.wait(ms).then(() => {
      if (this.#state === 1) return this.#value as T;
      if (this.#state === 2) throw this.#value;
      throw new TimeoutError(`result not ready after ${ms} ms`);
    });
  }

  /**
   * Makes the result awaitable: `await result` is `await result.get()`
   * (no timeout).
   * @throws (rejects) the task's error.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.get().then(onfulfilled, onrejected);
  }
}
