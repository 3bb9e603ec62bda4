/**
 * `ResponseFuture`: the handle of one call of the futures API (Lithops'
 * `ResponseFuture`). Waiting on it with a timeout never changes it: a later
 * `result()` still gives the value.
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import { checkTimeout } from "../validate.ts";
import type { FutureStats } from "./future_stats.ts";

/** Where a call is: not yet on a worker, on one, or finished. */
export type FutureStatus = "new" | "running" | "success" | "error";

/** Options of {@link ResponseFuture.result}. */
export interface ResultOptions {
  /** Reject with the call's error (default), or resolve to the error itself. @default true */
  throwExcept?: boolean;
  /** Give up after this many ms with a `TimeoutError`; the future stays usable. @default undefined (wait forever) */
  timeout?: number;
}

/**
 * One try of a batch of calls, shared by the futures of the batch: when it
 * left the host, and what the worker reported about it. (Shared, so that a
 * batch of many calls costs one record, not one per call.)
 */
export interface Attempt {
  /** Handed to the transport (the calls count as running). */
  dispatched: boolean;
  workerId?: string;
  workerStartTime?: number;
  workerEndTime?: number;
  hostResultTime?: number;
  /** Per call of the batch: function start then end time. */
  times?: Float64Array;
  /** Each call's share of the batch's encoded results. */
  resultSize?: number;
}

/** Starts a try of the future as call `index` of `attempt` (internal: the executor calls it). */
export let startAttempt: (f: ResponseFuture, attempt: Attempt, index: number) => void;
/** Moves the future's submit time (internal: a reducer is submitted when its map calls finish). */
export let resubmitted: (f: ResponseFuture, time: number) => void;
/** Settles a future (internal: the executor calls it). */
export let settleFuture: (f: ResponseFuture, ok: boolean, value: unknown) => void;
/** A settled future's value, or its error when it failed (internal: read without a promise per future). */
export let readSettled: (f: ResponseFuture) => unknown;
/** Calls `callback` once the future is settled (at once if it is). */
export let onSettled: (f: ResponseFuture, callback: () => void) => void;
/** A promise that resolves (never rejects) once the future is settled. */
export const whenSettled = (f: ResponseFuture): Promise<void> => new Promise<void>((resolve) => onSettled(f, resolve));

/**
 * One call submitted with `callAsync`, `map` or `mapReduce`.
 *
 * @example
 * ```ts
 * import { FunctionExecutor } from "./mod.ts";
 * await using fexec = new FunctionExecutor({ transport: "inline" });
 * const f = await fexec.callAsync((x: number) => x + 1, 41);
 * console.assert((await f.result()) === 42 && f.status === "success" && f.stats.attempts === 1);
 * ```
 */
export class ResponseFuture<T = unknown> {
  /** Which job (one `map`, `callAsync` or reduce step) of its executor the call belongs to. */
  readonly jobId: number;
  /** The call's position in its job. */
  readonly callId: number;
  #done: "success" | "error" | undefined;
  #value: unknown = undefined;
  #error: unknown = undefined;
  #hostSubmitTime: number;
  #attempts = 0;
  #attempt: Attempt | undefined;
  #index = 0;
  // Callbacks rather than a promise per future: a map of many calls makes
  // many futures, and most are only ever read once they are done.
  #waiters: (() => void) | (() => void)[] | undefined;

  static {
    startAttempt = (f, attempt, index) => {
      f.#attempts++;
      f.#attempt = attempt;
      f.#index = index;
    };
    resubmitted = (f, time) => {
      f.#hostSubmitTime = time;
    };
    settleFuture = (f, ok, value) => {
      if (f.#done !== undefined) return;
      f.#done = ok ? "success" : "error";
      if (ok) f.#value = value;
      else f.#error = value;
      const waiters = f.#waiters;
      f.#waiters = undefined;
      if (typeof waiters === "function") waiters();
      else if (waiters) for (const w of waiters) w();
    };
    readSettled = (f) => (f.#done === "error" ? f.#error : f.#value);
    onSettled = (f, callback) => {
      const waiters = f.#waiters;
      if (f.#done !== undefined) callback();
      else if (waiters === undefined) f.#waiters = callback;
      else if (typeof waiters === "function") f.#waiters = [waiters, callback];
      else waiters.push(callback);
    };
  }

  /** @internal Futures are made by a `FunctionExecutor`. */
  constructor(jobId: number, callId: number, hostSubmitTime: number) {
    this.jobId = jobId;
    this.callId = callId;
    this.#hostSubmitTime = hostSubmitTime;
  }

  /** `"new"` (queued), `"running"` (on a worker, or waiting to be tried again), `"success"` or `"error"`. */
  get status(): FutureStatus {
    return this.#done ?? (this.#attempt?.dispatched ? "running" : "new");
  }

  /** Timings and facts of the call (see `FutureStats`): a snapshot, filled in as the call runs. */
  get stats(): FutureStats {
    const a = this.#attempt;
    const i = this.#index;
    return {
      hostSubmitTime: this.#hostSubmitTime,
      workerStartTime: a?.workerStartTime,
      functionStartTime: a?.times?.[2 * i],
      functionEndTime: a?.times?.[2 * i + 1],
      workerEndTime: a?.workerEndTime,
      hostResultTime: a?.hostResultTime,
      workerId: a?.workerId,
      attempts: this.#attempts,
      resultSize: a?.resultSize,
    };
  }

  /** What the call threw (or why it could not run), once its status is `"error"`. */
  get error(): unknown {
    return this.#error;
  }

  /** Whether the call has finished, successfully or not. */
  done(): boolean {
    return this.#done !== undefined;
  }

  /**
   * The call's value, once it has finished.
   * @throws (rejects) the call's error (unless `throwExcept: false`, which resolves to it); {TimeoutError} after `timeout` ms, leaving the future as it was; {TypeError} for a bad timeout.
   */
  async result(options: ResultOptions = {}): Promise<T> {
    if (options === null || typeof options !== "object") throw new TypeError("result: options must be an object");
    const ms = checkTimeout("ResponseFuture.result timeout", options.timeout);
    const throwExcept = options.throwExcept ?? true;
    if (!this.done()) {
      if (ms === undefined) await whenSettled(this);
      else {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const expired = await Promise.race([
          whenSettled(this).then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms))),
        ]);
        clearTimeout(timer);
        if (expired) throw new TimeoutError(`call ${this.jobId}/${this.callId} did not finish within ${ms} ms`);
      }
    }
    if (this.#done === "error") {
      if (throwExcept) throw this.#error;
      return this.#error as T;
    }
    return this.#value as T;
  }
}
