/**
 * `ResponseFuture`: the handle of one call of the futures API (Lithops'
 * `ResponseFuture`). Waiting on it with a timeout never changes it: a later
 * `result()` still gives the value.
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import { checkTimeout } from "../validate.ts";
import { expandBounds } from "./call_runner.ts";
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
 * The calls of one try of a batch, and everything the futures of those
 * calls read: a future is only its batch and its index in it, so that a
 * map of many calls costs one small object per call and one settle per
 * batch. A call that is tried again moves to a batch of its own.
 */
export interface CallBatch {
  /** The job (one `map`, `callAsync` or reduce step) the calls belong to. */
  readonly jobId: number;
  /** The job position (`callId`) of the batch's call 0. */
  readonly firstCall: number;
  /** How many calls the batch holds. */
  readonly size: number;
  /** When the caller submitted the calls. */
  hostSubmitTime: number;
  /** Tries of each call of the batch so far (a retried call's batch starts with its earlier ones). */
  attempts: number;
  /** Handed to the transport (the calls count as running). */
  dispatched: boolean;
  workerId?: string;
  workerStartTime?: number;
  /** The batch started its execution environment (`BatchReport.coldStart`). */
  workerColdStart?: boolean;
  workerEndTime?: number;
  hostResultTime?: number;
  /** The worker's clock readings and where they were taken (see `BatchReport.marks`). */
  marks?: { marks: Float64Array; at: Uint32Array };
  /** Call boundaries, made from `marks` when first read. */
  bounds?: Float64Array;
  /** Each call's share of the batch's encoded results. */
  resultSize?: number;
  /** Per call: PENDING, SUCCESS or FAILED (absent: all pending). */
  states?: Uint8Array;
  /** Per call: its value, or its error once FAILED. */
  values?: unknown[];
  /** Called (once) at the next settle of any call of the batch. */
  waiters?: (() => void)[];
}

const PENDING = 0;
const SUCCESS = 1;
const FAILED = 2;

/** A batch of `size` calls of job `jobId` from call `firstCall` on, submitted at `hostSubmitTime`. */
export function newBatch(jobId: number, firstCall: number, size: number, hostSubmitTime: number, attempts = 0): CallBatch {
  return { jobId, firstCall, size, hostSubmitTime, attempts, dispatched: false };
}

/** Makes `count` futures for the calls `from..from+count-1` of `batch`, into `out` at `at` (internal). */
export let futuresOf: (batch: CallBatch, out: ResponseFuture[], at: number) => void;
/** The batch a future's call is in now (internal). */
export let batchOf: (f: ResponseFuture) => CallBatch;
/** The future's index in its batch (internal). */
export let indexOf: (f: ResponseFuture) => number;
/**
 * Moves a future to a batch of its own for another try (submitted at
 * `hostSubmitTime`, default its first submit) and returns it (internal).
 */
export let retryBatch: (f: ResponseFuture, hostSubmitTime?: number) => CallBatch;

/**
 * Settles, without waking waiters, every call of `batch` whose status is
 * OK (`Status.OK`, 0) with `values[i]`; the others stay pending for the
 * executor to fail or try again (internal).
 */
export function succeedOk(batch: CallBatch, values: unknown[], statuses: Uint8Array): void {
  const n = batch.size;
  const states = batch.states ??= new Uint8Array(n);
  for (let i = 0; i < n; i++) if (statuses[i] === 0 && states[i] === PENDING) states[i] = SUCCESS;
  if (batch.values === undefined) batch.values = values;
  else for (let i = 0; i < n; i++) if (statuses[i] === 0) batch.values[i] = values[i];
}

/**
 * Reads every future's value (or error) into `out` in one pass over the
 * batches' arrays; returns how many are not done and the first failed one
 * (internal: `getResult` of many calls).
 */
export let readAll: (fs: readonly ResponseFuture[], out: unknown[]) => { notDone: number; failed: ResponseFuture | undefined };

/** Settles call `index` of `batch` if it is pending, without waking its waiters (see {@link notifySettled}). */
export function settleCall(batch: CallBatch, index: number, ok: boolean, value: unknown): void {
  const states = batch.states ??= new Uint8Array(batch.size);
  if (states[index] !== PENDING) return;
  states[index] = ok ? SUCCESS : FAILED;
  (batch.values ??= new Array<unknown>(batch.size))[index] = value;
}

/** Wakes whoever waits on a call of `batch` (each waiter checks its own call). */
export function notifySettled(batch: CallBatch): void {
  const waiters = batch.waiters;
  if (waiters === undefined) return;
  batch.waiters = undefined;
  for (const w of waiters) w();
}

/** Settles a future and wakes its waiters (internal: the executor calls it). */
export function settleFuture(f: ResponseFuture, ok: boolean, value: unknown): void {
  if (f.done()) return;
  const batch = batchOf(f);
  settleCall(batch, indexOf(f), ok, value);
  notifySettled(batch);
}

/** A settled future's value, or its error when it failed (internal: read without a promise per future). */
export function readSettled(f: ResponseFuture): unknown {
  return batchOf(f).values?.[indexOf(f)];
}

/** Calls `callback` once the future is settled (at once if it is). */
export function onSettled(f: ResponseFuture, callback: () => void): void {
  if (f.done()) return callback();
  // A batch wakes its waiters when any of its calls settles, or when a call
  // moves to another batch to be tried again: check, and wait on again.
  (batchOf(f).waiters ??= []).push(() => onSettled(f, callback));
}

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
  #batch: CallBatch;
  #index: number;

  static {
    futuresOf = (batch, out, at) => {
      for (let i = 0; i < batch.size; i++) out[at + i] = new ResponseFuture(batch, i);
    };
    batchOf = (f) => f.#batch;
    readAll = (fs, out) => {
      let notDone = 0;
      let failed: ResponseFuture | undefined;
      for (let i = 0; i < fs.length; i++) {
        const f = fs[i];
        const b = f.#batch;
        const state = b.states === undefined ? PENDING : b.states[f.#index];
        if (state === PENDING) notDone++;
        else {
          if (state === FAILED && failed === undefined) failed = f;
          out[i] = b.values![f.#index];
        }
      }
      return { notDone, failed };
    };
    indexOf = (f) => f.#index;
    retryBatch = (f, hostSubmitTime) => {
      const old = f.#batch;
      const batch = newBatch(old.jobId, old.firstCall + f.#index, 1, hostSubmitTime ?? old.hostSubmitTime, old.attempts);
      // Waiting to be tried again counts as running.
      batch.dispatched = true;
      f.#batch = batch;
      f.#index = 0;
      // Its waiters move to the new batch when the executor next wakes the old one's.
      return batch;
    };
  }

  /** @internal Futures are made by a `FunctionExecutor`. */
  private constructor(batch: CallBatch, index: number) {
    this.#batch = batch;
    this.#index = index;
  }

  /** Which job (one `map`, `callAsync` or reduce step) of its executor the call belongs to. */
  get jobId(): number {
    return this.#batch.jobId;
  }

  /** The call's position in its job. */
  get callId(): number {
    return this.#batch.firstCall + this.#index;
  }

  /** `"new"` (queued), `"running"` (on a worker, or waiting to be tried again), `"success"` or `"error"`. */
  get status(): FutureStatus {
    const b = this.#batch;
    const state = b.states?.[this.#index];
    if (state === SUCCESS) return "success";
    if (state === FAILED) return "error";
    return b.dispatched ? "running" : "new";
  }

  /** Timings and facts of the call (see `FutureStats`): a snapshot, filled in as the call runs. */
  get stats(): FutureStats {
    const b = this.#batch;
    const i = this.#index;
    if (b.bounds === undefined && b.marks !== undefined) b.bounds = expandBounds(b.marks.marks, b.marks.at, b.size);
    return {
      hostSubmitTime: b.hostSubmitTime,
      workerStartTime: b.workerStartTime,
      functionStartTime: b.bounds?.[i],
      functionEndTime: b.bounds?.[i + 1],
      workerEndTime: b.workerEndTime,
      hostResultTime: b.hostResultTime,
      workerId: b.workerId,
      ...(b.workerColdStart !== undefined ? { workerColdStart: b.workerColdStart } : {}),
      attempts: b.attempts,
      resultSize: b.resultSize,
    };
  }

  /** What the call threw (or why it could not run), once its status is `"error"`. */
  get error(): unknown {
    const b = this.#batch;
    return b.states?.[this.#index] === FAILED ? b.values![this.#index] : undefined;
  }

  /** Whether the call has finished, successfully or not. */
  done(): boolean {
    const states = this.#batch.states;
    return states !== undefined && states[this.#index] !== PENDING;
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
    const value = readSettled(this);
    if (this.status === "error" && throwExcept) throw value;
    return value as T;
  }
}
