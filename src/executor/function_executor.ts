/**
 * `FunctionExecutor`: Lithops' futures API on the execution core — calls
 * as futures, each with its own outcome, stats and retries.
 *
 * @module
 */
import { config } from "../config.ts";
import { SerializationError, StateError, TimeoutError } from "../errors.ts";
import { defaultChunksize } from "../execution/chunk_feeder.ts";
import { type BatchTicket, ExecutionCore, type SubmitChunk } from "../execution/execution_core.ts";
import { resolveTransport } from "../execution/transport_registry.ts";
import { checkTimeout } from "../validate.ts";
import { decode } from "../task/codec.ts";
import { loadFunction, task, TaskRef, type TaskFn } from "../task/function_ref.ts";
import { Status } from "../transport/batch_status.ts";
import { type BatchReport, type CallSpec, runCalls } from "./call_runner.ts";
import {
  type CallOptions,
  type CheckedCallOptions,
  checkCallOptions,
  checkKnownKeys,
  type CheckedMapOptions,
  checkMapOptions,
  type MapOptions,
  type MapReduceOptions,
} from "./call_options.ts";
import { checkExecutorOptions, type FunctionExecutorOptions } from "./executor_options.ts";
import { checkIterdata, readIterdata } from "./iterdata.ts";
import type { ObjectsInput } from "../storage/objects.ts";
import { groupByUrl } from "./reduce_groups.ts";
import { writePlots } from "./plot.ts";
import { startProgress } from "./progress_bar.ts";
import {
  batchOf,
  type CallBatch,
  futuresOf,
  newBatch,
  notifySettled,
  onSettled,
  readSettled,
  ResponseFuture,
  retryBatch,
  settleCall,
  settleFuture,
  succeedOk,
  whenSettled,
} from "./response_future.ts";
import { checkReturnWhen, collectResults, type ReturnWhen, waitFutures, type WaitResult } from "./wait.ts";
import { logger } from "../log.ts";
import { nodePath } from "../runtime/builtins.ts";

const log = logger("skypool:executor");

/** Options of {@link FunctionExecutor.wait}. */
export interface WaitOptions {
  /** `ANY_COMPLETED`, `ALL_COMPLETED` or `ALWAYS`. @default ALL_COMPLETED */
  returnWhen?: ReturnWhen;
  /** Return what is done after this many ms. @default undefined (no limit) */
  timeout?: number;
  /** Reject with the error of a done call that failed. @default true */
  throwExcept?: boolean;
  /** Show a progress bar while waiting. @default the executor's `showProgressbar` */
  showProgressbar?: boolean;
}

/** Options of {@link FunctionExecutor.getResult}. */
export interface GetResultOptions {
  /** Reject with `TimeoutError` after this many ms; the futures stay usable. @default undefined (no limit) */
  timeout?: number;
  /** Reject with the first failed call's error; with `false` its slot holds the error. @default true */
  throwExcept?: boolean;
  /** Show a progress bar while waiting. @default the executor's `showProgressbar` */
  showProgressbar?: boolean;
}

/** What `jobSummary()` reports over this executor's futures. */
export interface JobSummary {
  /** Calls submitted (map, call and reduce calls). */
  calls: number;
  /** Calls finished, successfully or not. */
  done: number;
  /** Calls finished with a value. */
  succeeded: number;
  /** Calls finished with an error (after their retries). */
  failed: number;
  /** Calls not finished yet. */
  pending: number;
  /** Calls tried more than once. */
  retried: number;
  /** Tries in all. */
  attempts: number;
  /** From the first submit to the last result received (ms); 0 before any result. */
  wallMs: number;
}

/** Options of {@link FunctionExecutor.clean}. */
export interface CleanOptions {
  /** Which futures to clean. @default every finished future of this executor */
  fs?: ResponseFuture | ResponseFuture[];
  /** Also delete objects the executor stored for them. @default true */
  cleanCloudobjects?: boolean;
}

/** First retry after this many ms; each further one waits twice as long... */
const RETRY_BACKOFF_MS = 50;
/** ...up to this. */
const RETRY_BACKOFF_MAX_MS = 2000;

// The worker entry of futures batches; the extension follows this file's (.ts under Deno, .js in the npm build).
const CALL_RUNNER = task(new URL(`./call_runner${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url), "runShippedCalls");

/** Executors made by this process, for the names of their exported plots. */
let executors = 0;

/** The clock of every stats time (the worker side reads the same one); `Date.now()` called as a method is the fast form. */
const now = () => Date.now();

function checkFn(fn: unknown, what: string): void {
  if (typeof fn !== "function" && !(fn instanceof TaskRef)) {
    throw new TypeError(`${what}: the function must be a function or task(url, name), got ${fn === null ? "null" : typeof fn}`);
  }
}

/** A call that failed this way may succeed if tried again (not a value the codec refuses). */
function retryable(error: unknown): boolean {
  return !(error instanceof SerializationError);
}

/** A map function: `fn(item, ...extraArgs)`, or a module function named by `task`. */
// deno-lint-ignore no-explicit-any
export type MapFn<A, R> = ((item: A, ...extra: any[]) => R | PromiseLike<R>) | TaskRef;

/** One batch's shared parts: how to submit it and what its calls share. */
interface Job {
  submit: SubmitChunk;
  spec: CallSpec;
  call: CheckedCallOptions & { retries: number };
  remote: boolean;
}

/**
 * Runs calls on a transport and hands back a {@link ResponseFuture} per
 * call, as Lithops' `FunctionExecutor`. Each call has its own outcome: one
 * call's error never fails another in the same batch.
 *
 * @example
 * ```ts
 * import { FunctionExecutor } from "./mod.ts";
 * await using fexec = new FunctionExecutor({ transport: "inline" });
 * const fs = await fexec.map((x: number, k: number) => x * k, [1, 2, 3], { extraArgs: [10] });
 * console.assert(JSON.stringify(await fexec.getResult(fs)) === "[10,20,30]");
 * ```
 */
export class FunctionExecutor {
  /** How many batches run at once. */
  readonly workers: number;
  /** The storage URL given (used by storage-backed inputs). */
  readonly storage: string | undefined;
  /** Whether `wait`/`getResult` show a progress bar by default. */
  readonly showProgressbar: boolean;
  #core: ExecutionCore;
  /** The futures of each job (kept per job: a map of many calls appends one list, not each call). */
  #jobFutures: ResponseFuture[][] = [];
  #jobs = 0;
  #retries: number | undefined;
  #envVars: Record<string, string> | undefined;
  #stopped = false;
  /** Names this executor's exported plots. */
  readonly #id = `executor-${process.pid}-${++executors}`;

  /**
   * Makes an executor on the transport of `options.transport` (else config `transport`, `"local"` by default).
   * @throws {TypeError} for options of the wrong type or an unknown option; a transport object that lacks a method.
   * @throws {RangeError} for `workers` that is not a positive integer, an unknown transport name, `config.retries` < 0.
   */
  constructor(options: FunctionExecutorOptions = {}) {
    const { workers, storage, showProgressbar, retries, envVars } = checkExecutorOptions(options);
    this.#retries = retries;
    this.#envVars = envVars;
    this.storage = storage;
    // The bar draws on stderr (stdout stays the program's output).
    this.showProgressbar = showProgressbar ?? process.stderr.isTTY === true;
    const transport = resolveTransport(
      options.transport ?? config.get().transport,
      { processes: workers },
      options.transport === undefined ? "config.transport" : "FunctionExecutor transport",
    );
    // A transport made here already runs `workers` batches at once and pipelines
    // them to busy workers; the core bounds only a given transport that is larger.
    const bound = workers !== undefined && workers < transport.size ? workers : undefined;
    this.#core = new ExecutionCore(transport, { concurrency: bound });
    this.workers = Math.min(workers ?? transport.size, transport.size);
    this.#core.start({});
  }

  /**
   * Calls `fn(data)` on a worker.
   * @throws (rejects) {StateError} after the executor was disposed; {TypeError}/{RangeError} for bad options; {SerializationError} for a function that cannot be shipped.
   */
  // deno-lint-ignore require-await -- async so that bad arguments reject, as every other failure does
  async callAsync<A, R>(fn: ((data: A) => R | PromiseLike<R>) | TaskRef, data: A, options?: CallOptions): Promise<ResponseFuture<R>> {
    this.#checkRunning();
    checkFn(fn, "callAsync");
    const call = checkCallOptions(options, "callAsync");
    const job = this.#job(fn as TaskFn, [], call);
    const [f] = this.#newFutures(1, 1);
    this.#run(job, [data], batchOf(f), [f], 0);
    return f as ResponseFuture<R>;
  }

  /**
   * Calls `fn(item, ...extraArgs)` for every item of `iterdata`; one
   * future per item, in input order, `chunksize` calls per batch. An
   * `objects(...urls)` input is listed and cut first (`objChunkSize`,
   * `objChunkNumber`, `objNewline`): each call then receives one
   * `DataPartition`, object by object and part by part.
   * @throws (rejects) {StateError} after the executor was disposed; {TypeError}/{RangeError} for a non-iterable input or bad options, before any call is made; {ObjectNotFoundError} for a missing object, folder or bucket, before any call is made; {SerializationError} for a function that cannot be shipped; what the input throws.
   */
  async map<A, R>(
    fn: MapFn<A, R>,
    iterdata: Iterable<A> | AsyncIterable<A> | ObjectsInput,
    options?: MapOptions,
  ): Promise<ResponseFuture<R>[]> {
    return await this.#map(fn as TaskFn, iterdata, options, "map") as ResponseFuture<R>[];
  }

  /**
   * `map`, then `reduceFn(results)` once its map calls have finished (once
   * per object with `objReduceByKey`: the partitions of an `objects(...)`
   * input are grouped by their object's `url`). Returns the map futures, then the
   * reducer future(s). A reducer whose map calls failed fails with the
   * first of their errors, without running.
   * @throws (rejects) as {@link FunctionExecutor.map}; {TypeError} with `objReduceByKey` when an input has no `url` string.
   */
  async mapReduce<A, M, R>(
    mapFn: MapFn<A, M>,
    iterdata: Iterable<A> | AsyncIterable<A> | ObjectsInput,
    reduceFn: ((results: M[]) => R | PromiseLike<R>) | TaskRef,
    options?: MapReduceOptions,
  ): Promise<ResponseFuture[]> {
    checkFn(reduceFn, "mapReduce reducer");
    let groups: number[][] = [];
    let reduceJob: Job | undefined;
    const futures = await this.#map(mapFn as TaskFn, iterdata, options, "mapReduce", (items, checked) => {
      groups = checked.objReduceByKey ? groupByUrl(items, "mapReduce") : [items.map((_, i) => i)];
      reduceJob = this.#job(reduceFn as TaskFn, [], checked);
    });
    // One batch per reducer: each is submitted (and timed) on its own.
    const reducers = this.#newFutures(groups.length, 1);
    groups.forEach((group, k) => this.#reduceWhenMapped(reduceJob!, group.map((i) => futures[i]), reducers[k]));
    return [...futures, ...reducers];
  }

  /**
   * Reads the input, checks everything (`beforeSubmit` adds checks of its
   * own), then submits the calls in batches of `chunksize`.
   */
  async #map(
    fn: TaskFn,
    iterdata: unknown,
    options: unknown,
    what: string,
    beforeSubmit?: (items: unknown[], checked: CheckedMapOptions) => void,
  ): Promise<ResponseFuture[]> {
    this.#checkRunning();
    checkFn(fn, what);
    const checked = checkMapOptions(options, what, what === "mapReduce");
    checkIterdata(iterdata, what);
    const items = await readIterdata(iterdata, checked.partitioning);
    const job = this.#job(fn, checked.extraArgs, checked);
    beforeSubmit?.(items, checked);
    this.#checkRunning();
    const size = checked.chunksize ?? defaultChunksize(items.length, this.workers);
    const futures = this.#newFutures(items.length, size);
    for (let at = 0; at < items.length; at += size) {
      this.#run(job, items.slice(at, at + size), batchOf(futures[at]), futures, at);
    }
    return futures;
  }

  /** What the batches of one job share; ships `fn` now (a refused function fails before any call). */
  #job(fn: TaskFn, extraArgs: unknown[], call: CheckedCallOptions): Job {
    // ENV_VARS (config), then the executor's envVars, then the call's extraEnv.
    const merged = { ...config.get().envVars, ...this.#envVars, ...call.extraEnv };
    const env = Object.keys(merged).length > 0 ? merged : undefined;
    const withRetries = { ...call, retries: call.retries ?? this.#retries ?? config.get().retries };
    if (this.#core.transport.kind === "in-process") {
      const direct = typeof fn === "function" ? fn as (...a: unknown[]) => unknown : undefined;
      const ref = direct ? undefined : this.#core.ship(fn);
      const runner = async (spec: CallSpec, items: unknown[]) => runCalls(direct ?? (await loadFunction(ref!)), spec, items, "inline");
      return { submit: this.#core.submitter(runner), spec: { extraArgs, env }, call: withRetries, remote: false };
    }
    const spec: CallSpec = { fn: this.#core.ship(fn), extraArgs, env };
    return { submit: this.#core.submitter(CALL_RUNNER), spec, call: withRetries, remote: true };
  }

  /** The futures of a new job of `n` calls, in batches of `size`. */
  #newFutures(n: number, size: number): ResponseFuture[] {
    const jobId = this.#jobs++;
    const t = now();
    const out = new Array<ResponseFuture>(n);
    for (let at = 0; at < n; at += size) futuresOf(newBatch(jobId, at, Math.min(size, n - at), t), out, at);
    this.#jobFutures.push(out);
    return out;
  }

  /**
   * Runs one batch of calls (`futures[at..]` are its futures); each failed
   * call is retried on its own while it has tries left.
   */
  #run(job: Job, items: unknown[], batch: CallBatch, futures: readonly ResponseFuture[], at: number): void {
    batch.attempts++;
    let finished = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Settles (or retries) every call of the batch that did not succeed, then wakes the waiters once.
    const failAll = (errorOf: (i: number) => unknown, except?: Uint8Array) => {
      for (let i = 0; i < batch.size; i++) if (except === undefined || except[i] !== Status.OK) this.#failed(job, items[i], futures[at + i], batch, i, errorOf(i));
      notifySettled(batch);
    };
    const dispatched = () => {
      batch.dispatched = true;
      const ms = job.call.timeout;
      if (ms === undefined) return;
      // Past its timeout the batch is stopped (the transport kills and
      // replaces a worker still running it) and its calls fail, or are
      // retried, through the outcome below. (`dispatched` may run inside
      // `submit`, before `ticket` is set; the timer fires after.)
      timer = setTimeout(() => ticket.stop(new TimeoutError(`the batch was still running ${ms} ms after it started`)), ms);
    };
    const ticket: BatchTicket = job.submit([[job.spec, items]], false, (outcome) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      batch.hostResultTime = now();
      if (!outcome.ok) return failAll(() => outcome.error);
      let report: BatchReport;
      if (job.remote) {
        const bytes = outcome.values[0] as Uint8Array;
        try {
          report = decode(bytes) as BatchReport;
        } catch (error) {
          return failAll(() => error);
        }
        // One encoding for the whole batch: each call is charged an equal share (exact for a batch of one).
        batch.resultSize = Math.ceil(bytes.length / batch.size);
      } else report = outcome.values[0] as BatchReport;
      batch.workerId = report.workerId;
      batch.workerStartTime = report.workerStartTime;
      batch.workerColdStart = report.coldStart;
      batch.workerEndTime = report.workerEndTime;
      batch.marks = { marks: report.marks, at: report.at };
      const { statuses, results } = report;
      succeedOk(batch, results, statuses);
      failAll((i) =>
        statuses[i] === Status.THREW
          ? results[i]
          : new SerializationError(`the result of call ${batch.jobId}/${batch.firstCall + i} cannot be serialized: ${String(results[i])}`), statuses);
    }, { dispatched, units: items.length });
  }

  /** Call `index` of `batch` failed: tries it again in a batch of its own while it has tries left, else settles it (waiters are woken by the caller). */
  #failed(job: Job, item: unknown, f: ResponseFuture, batch: CallBatch, index: number, error: unknown): void {
    const tries = batch.attempts;
    if (tries <= job.call.retries && retryable(error) && !this.#stopped) {
      const delay = Math.min(RETRY_BACKOFF_MS * 2 ** (tries - 1), RETRY_BACKOFF_MAX_MS);
      if (log.enabled) log("call %s/%s failed (try %d of %d): %s; retrying in %d ms", f.jobId, f.callId, tries, job.call.retries + 1, (error as Error)?.message ?? String(error), delay);
      const next = retryBatch(f);
      setTimeout(() => {
        if (this.#stopped) settleFuture(f, false, error);
        else this.#run(job, [item], next, [f], 0);
      }, delay);
      return;
    }
    settleCall(batch, index, false, error);
  }

  #reduceWhenMapped(job: Job, mapped: ResponseFuture[], reducer: ResponseFuture): void {
    Promise.all(mapped.map((f) => whenSettled(f))).then(() => {
      const results = new Array<unknown>(mapped.length);
      for (let i = 0; i < mapped.length; i++) {
        const f = mapped[i];
        if (f.status === "error") return settleFuture(reducer, false, f.error);
        results[i] = readSettled(f);
      }
      if (this.#stopped) return settleFuture(reducer, false, new StateError("the executor was disposed before the reducer started"));
      const batch = batchOf(reducer);
      batch.hostSubmitTime = now();
      this.#run(job, [results], batch, [reducer], 0);
    });
  }

  /**
   * Waits on futures (default: every future of this executor) until
   * `returnWhen` holds or `timeout` ms have passed, and returns which are
   * done. A timeout changes no future.
   * @throws (rejects) the error of a done call that failed (unless `throwExcept: false`); {TypeError}/{RangeError} for bad arguments.
   */
  async wait(fs?: ResponseFuture | ResponseFuture[], options: WaitOptions = {}): Promise<WaitResult> {
    const list = this.#futuresArg(fs, "wait");
    const o = this.#options(options, "wait", ["returnWhen", "timeout", "throwExcept", "showProgressbar"]);
    const returnWhen = checkReturnWhen(o.returnWhen, "wait");
    const ms = checkTimeout("FunctionExecutor.wait timeout", o.timeout);
    const stop = this.#progress(list, o.showProgressbar);
    try {
      return await waitFutures(list, returnWhen, ms, o.throwExcept ?? true);
    } finally {
      await stop();
    }
  }

  /**
   * The value of one future, or the values of a list (default: every
   * future of this executor), once done.
   * @throws (rejects) the first failed call's error (unless `throwExcept: false`, which puts each error in its slot); {TimeoutError} after `timeout` ms, leaving every future usable; {TypeError} for bad arguments.
   */
  async getResult(fs?: ResponseFuture | ResponseFuture[], options: GetResultOptions = {}): Promise<unknown> {
    const list = this.#futuresArg(fs, "getResult");
    const o = this.#options(options, "getResult", ["timeout", "throwExcept", "showProgressbar"]);
    const ms = checkTimeout("FunctionExecutor.getResult timeout", o.timeout);
    const stop = this.#progress(list, o.showProgressbar);
    try {
      const values = await collectResults(list, ms, o.throwExcept ?? true);
      return fs instanceof ResponseFuture ? values[0] : values;
    } finally {
      await stop();
    }
  }

  /**
   * Writes `${dst}_timeline.svg` (one bar per call, from worker start to
   * end, function time marked) and `${dst}_histogram.svg` (call durations)
   * of the futures' stats (default: every future of this executor) and
   * returns their absolute paths. Calls not finished yet are drawn with
   * what their stats hold so far.
   * @throws (rejects) {TypeError} for bad arguments; what the file system throws.
   */
  async plot(fs: ResponseFuture | ResponseFuture[] | undefined, dst: string): Promise<string[]> {
    const list = this.#futuresArg(fs, "plot");
    if (typeof dst !== "string" || dst.length === 0) throw new TypeError(`plot: dst must be a non-empty path prefix, got ${JSON.stringify(dst)}`);
    return await writePlots(list.map((f) => f.stats), dst);
  }

  /**
   * Forgets finished futures (default: all finished ones) so that `wait`,
   * `getResult`, `plot` and `jobSummary` without `fs` no longer count them,
   * as Lithops' `clean` does. Lithops also deletes the call data it put in
   * storage; this executor puts nothing there (inputs, `DataPartition`
   * records and results travel in transport messages, and partitions are
   * only read), so `cleanCloudobjects` has nothing to delete yet and is
   * accepted for the day large payloads go through storage.
   * @throws (rejects) {TypeError} for bad arguments.
   */
  // deno-lint-ignore require-await -- async so that bad arguments reject, as every other failure does
  async clean(options: CleanOptions = {}): Promise<void> {
    const o = this.#options(options, "clean", ["fs", "cleanCloudobjects"]);
    if (o.cleanCloudobjects !== undefined && typeof o.cleanCloudobjects !== "boolean") {
      throw new TypeError(`clean: cleanCloudobjects must be a boolean, got ${typeof o.cleanCloudobjects}`);
    }
    const only = o.fs === undefined ? undefined : new Set(this.#futuresArg(o.fs, "clean"));
    const forget = (f: ResponseFuture) => f.done() && (only === undefined || only.has(f));
    // A job whose futures all go is dropped whole (the common case: cleaning after getResult).
    this.#jobFutures = this.#jobFutures.filter((fs) => !fs.every(forget)).map((fs) => (fs.some(forget) ? fs.filter((f) => !forget(f)) : fs));
  }

  /** Counts over this executor's futures (see {@link JobSummary}). */
  jobSummary(): JobSummary {
    let done = 0, failed = 0, retried = 0, attempts = 0;
    let first = Infinity, last = -Infinity;
    let calls = 0;
    for (const f of this.#jobFutures.flat()) {
      calls++;
      const s = f.stats;
      attempts += s.attempts;
      if (s.attempts > 1) retried++;
      if (s.hostSubmitTime < first) first = s.hostSubmitTime;
      if (!f.done()) continue;
      done++;
      if (f.status === "error") failed++;
      if (s.hostResultTime !== undefined && s.hostResultTime > last) last = s.hostResultTime;
    }
    return { calls, done, succeeded: done - failed, failed, pending: calls - done, retried, attempts, wallMs: last > first ? last - first : 0 };
  }

  /**
   * `await using fexec = new FunctionExecutor()`: with config
   * `exportExecutionDetails` (`EXPORT_EXECUTION_DETAILS`) set to a folder,
   * writes the plots of every future not cleaned yet there as
   * `executor-<pid>-<n>_timeline.svg` / `_histogram.svg`; then `clean()`,
   * then stops the workers (unfinished calls fail).
   * @throws (rejects) what the file system throws while writing the plots (the workers are stopped all the same).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#stopped) return;
    const folder = config.get().exportExecutionDetails;
    const futures = this.#jobFutures.flat();
    try {
      if (folder && futures.length > 0) await writePlots(futures.map((f) => f.stats), nodePath().join(folder, this.#id));
    } finally {
      await this.clean();
      this.#stopped = true;
      await this.#core.terminate();
    }
  }

  #checkRunning(): void {
    if (this.#stopped) throw new StateError("FunctionExecutor was disposed");
  }

  #futuresArg(fs: unknown, what: string): ResponseFuture[] {
    if (fs === undefined || fs === null) return this.#jobFutures.flat();
    if (fs instanceof ResponseFuture) return [fs];
    if (!Array.isArray(fs)) throw new TypeError(`${what}: fs must be a ResponseFuture or an array of them, got ${typeof fs}`);
    for (let i = 0; i < fs.length; i++) {
      if (!(fs[i] instanceof ResponseFuture)) throw new TypeError(`${what}: fs[${i}] is not a ResponseFuture`);
    }
    return fs;
  }

  #options(options: unknown, what: string, keys: readonly string[]): Record<string, unknown> & { throwExcept?: boolean; showProgressbar?: boolean } {
    if (options === null || typeof options !== "object") throw new TypeError(`${what}: options must be an object`);
    const o = options as Record<string, unknown>;
    checkKnownKeys(o, keys, what);
    for (const key of ["throwExcept", "showProgressbar"]) {
      if (o[key] !== undefined && typeof o[key] !== "boolean") throw new TypeError(`${what}: ${key} must be a boolean, got ${typeof o[key]}`);
    }
    return o;
  }

  /**
   * Starts the progress bar of a blocking `wait`/`getResult` over `fs`
   * when `show` (default: the executor's `showProgressbar`) is on; returns
   * what stops it.
   */
  #progress(fs: readonly ResponseFuture[], show: boolean | undefined): () => Promise<void> {
    if (!(show ?? this.showProgressbar) || fs.length === 0) return () => Promise.resolve();
    const bar = startProgress(fs.length, { enabled: true });
    let done = 0;
    let stopped = false;
    for (const f of fs) onSettled(f, () => stopped || bar.update(++done));
    return () => {
      stopped = true;
      return bar.stop();
    };
  }
}
