/**
 * `Pool`: Python's `multiprocessing.Pool` on skypool transports.
 *
 * @module
 */
import { AsyncResult, settleResult } from "./execution/async_result.ts";
import { ChunkFeeder, defaultChunksize, type FeederSink, lookahead, openInput, sizeOf } from "./execution/chunk_feeder.ts";
import { ExecutionCore } from "./execution/execution_core.ts";
import { type IMapIterator, openIMap } from "./execution/imap_iterator.ts";
import { CANCEL_OPTIONS, type CancelOptions, checkCancelOptions, JobGuard } from "./execution/job_guard.ts";
import { resolveTransport } from "./execution/transport_registry.ts";
import { config } from "./config.ts";
import { logger } from "./log.ts";
import type { PoolStats } from "./execution/run_stats.ts";
import { checkFunction, checkInteger, checkOptions, checkTaskFn, show } from "./validate.ts";
import { preloadParser } from "./task/free_variables.ts";
import { preloadDecoder } from "./task/cbor_decoder.ts";
import { StateError } from "./errors.ts";
import type { TaskFn, TaskRef } from "./task/function_ref.ts";
import type { Transport, TransportName } from "./transport/transport.ts";

/** Options of {@link Pool}. */
export interface PoolOptions {
  /** Worker count; `0` means inline. @default the number of CPUs (on `local`) */
  processes?: number;
  /**
   * Run once in each worker before its first task. If it throws, the pool
   * is broken: every unfinished and later task rejects with a
   * `WorkerLostError` whose `cause` is the initializer's error (CPython
   * respawns workers forever and its tasks hang). Inline, the tasks reject
   * with the initializer's error itself.
   */
  initializer?: TaskFn;
  /** Arguments of `initializer`. */
  initargs?: unknown[];
  /** Recycle a worker after this many tasks (chunks, as CPython counts). Ignored inline. */
  maxtasksperchild?: number;
  /** `"local"`, `"inline"`, or a transport object. @default config `transport` (`"local"`) */
  transport?: TransportName | Transport;
}

/** Callbacks of `applyAsync` (run once, before the result settles), and its `signal` / `timeout`. */
export interface ApplyAsyncOptions<R> extends CancelOptions {
  /** Called with the task's value if it succeeds; an error it throws is logged, not raised. */
  callback?: (value: R) => void;
  /** Called with the task's error if it fails; an error it throws is logged, not raised. */
  errorCallback?: (error: unknown) => void;
}

/** Options of `map`, `starmap`, `imap` and `imapUnordered`, in place of a `chunksize` number. */
export interface PoolMapOptions extends CancelOptions {
  /**
   * Items per task sent to a worker.
   * @default for `map`/`starmap`: ceil(n / (4 × processes)), at least 1,
   * where n is the input's `length` or, for an input without one, the
   * number of items read ahead before the first task; for `imap`/`imapUnordered`: 1
   */
  chunksize?: number;
}

/** Options of `mapAsync` / `starmapAsync`. */
export interface MapAsyncOptions<R> extends PoolMapOptions {
  /** Called once with the whole list, when every chunk has succeeded. */
  callback?: (values: R[]) => void;
  /** Called once with the first error, after every chunk has finished. */
  errorCallback?: (error: unknown) => void;
}

/**
 * A task function called with one item (`map`, `imap`, `imapUnordered`);
 * it returns its result or a promise of it.
 */
// deno-lint-ignore no-explicit-any
export type ItemFn<A, R> = (x: A, ...rest: any[]) => R | PromiseLike<R>;
/** The input of a map: a sync or async iterable, read lazily. */
export type InputIterable<T> = Iterable<T> | AsyncIterable<T>;

const log = logger("skypool:pool");

/** Chunks in flight per job at most (the lower bound below may exceed it). */
const MAX_CHUNKS_IN_FLIGHT = 256;
/** Encoded bytes in flight per job at most. */
const MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

interface Job {
  abort(error: Error): void;
  unbound?(): void;
}

function reportCallbackError(which: string, err: unknown): void {
  console.error(`skypool: Pool ${which} threw:`, err);
}

const POOL_OPTIONS = ["processes", "initializer", "initargs", "maxtasksperchild", "transport"] as const;

function checkFn(fn: unknown, what: string): void {
  checkTaskFn(`${what} fn`, fn);
}

function checkChunksize(chunksize: unknown, what: string): number | undefined {
  if (chunksize === undefined || chunksize === null) return undefined;
  return checkInteger(`${what} chunksize`, chunksize, { min: 1 });
}

const MAP_OPTIONS = ["chunksize", ...CANCEL_OPTIONS] as const;
const MAP_ASYNC_OPTIONS = [...MAP_OPTIONS, "callback", "errorCallback"] as const;
const APPLY_ASYNC_OPTIONS = ["callback", "errorCallback", ...CANCEL_OPTIONS] as const;

function checkMapOptions(o: unknown, what: string, allowed: readonly string[]): MapAsyncOptions<unknown> {
  const options = checkOptions<MapAsyncOptions<unknown>>(`${what} options`, o, allowed);
  checkCallbacks(options, what);
  return options;
}

/** `map`'s third argument: a chunk size, or an options object in its place. */
function mapOptions(chunksizeOrOptions: number | PoolMapOptions | undefined): PoolMapOptions {
  return chunksizeOrOptions !== null && typeof chunksizeOrOptions === "object" ? chunksizeOrOptions : { chunksize: chunksizeOrOptions };
}

function checkCallbacks(o: { callback?: unknown; errorCallback?: unknown }, what: string): void {
  if (o.callback != null) checkFunction(`${what} callback`, o.callback);
  if (o.errorCallback != null) checkFunction(`${what} errorCallback`, o.errorCallback);
}

/**
 * A pool of workers, as Python's `multiprocessing.Pool`. Tasks run in
 * local worker processes (default), or inline in the calling thread with
 * `new Pool(0)` / `transport: "inline"` (for unit tests: closures and
 * mocks work). A task function is a self-contained function (shipped by
 * source) or `task(moduleUrl, exportName)`.
 *
 * @example
 * ```ts
 * import { Pool } from "./mod.ts";
 * await using pool = new Pool(2);
 * console.assert((await pool.map((x: number) => x * x, [1, 2, 3])).join() === "1,4,9");
 * console.assert((await pool.apply((a: number, b: number) => a + b, [2, 3])) === 5);
 * ```
 */
export class Pool {
  /** How many tasks (chunks) can run at once. */
  readonly processes: number;
  #core: ExecutionCore;
  #state: "run" | "close" | "terminate" = "run";
  #jobs = new Set<Job>();
  #stopped: Promise<void> | undefined;
  #drained: Promise<void> | undefined;
  #resolveDrained: (() => void) | undefined;

  /**
   * A pool of `processes` workers (or `options.processes`; default: the
   * number of CPUs on `local`).
   * @throws {RangeError} for a negative or fractional `processes`, an unknown transport name, or a `maxtasksperchild` that is not a positive integer.
   * @throws {TypeError} for arguments of the wrong type (an `initializer` that is not a function or task reference, a transport object without its methods, …) or an unknown option.
   * @throws {SerializationError} when the initializer or its arguments cannot be shipped.
   */
  constructor(processes?: number | PoolOptions, options?: PoolOptions);
  constructor(processesOrOptions?: number | PoolOptions, maybeOptions?: PoolOptions) {
    let options: Partial<PoolOptions>;
    let processes: unknown;
    if (processesOrOptions !== null && typeof processesOrOptions === "object") {
      if (maybeOptions !== undefined) throw new TypeError("Pool takes (processes, options) or (options), not two option objects");
      options = checkOptions<PoolOptions>("Pool options", processesOrOptions, POOL_OPTIONS);
      processes = options.processes;
    } else {
      options = checkOptions<PoolOptions>("Pool options", maybeOptions, POOL_OPTIONS);
      if (processesOrOptions != null && options.processes != null) {
        throw new TypeError("Pool processes is given twice: as the first argument and as options.processes");
      }
      processes = processesOrOptions ?? options.processes;
    }
    if (processes != null) checkInteger("Pool processes", processes, { min: 0 });
    const { initializer, initargs = [], maxtasksperchild } = options;
    if (initializer != null) checkTaskFn("Pool initializer", initializer);
    if (!Array.isArray(initargs)) throw new TypeError(`Pool initargs must be an array, got ${show(initargs)}`);
    if (maxtasksperchild != null) checkInteger("Pool maxtasksperchild", maxtasksperchild, { min: 1 });
    let transport: TransportName | Transport | undefined = options.transport;
    if (processes === 0) {
      if (transport !== undefined && transport !== "inline") {
        throw new TypeError(`Pool processes 0 runs tasks inline; it cannot be combined with transport ${show(transport)}`);
      }
      transport = "inline";
    }
    // Name where a bad transport came from: this call or the configuration.
    const source = transport === undefined ? "config.transport" : "Pool transport";
    transport ??= config.get().transport as TransportName;
    // The transport paces batches itself (the local one pipelines them to
    // busy workers): the core adds no concurrency bound of its own.
    this.#core = new ExecutionCore(resolveTransport(transport, { processes: processes as number | undefined }, source));
    this.processes = this.#core.size;
    this.#core.start({ initializer: initializer ?? undefined, initargs, maxtasksperchild: maxtasksperchild ?? undefined });
    // Workers take a while to boot: load the function parser and the
    // decoder of their answers meanwhile, so that the first map does not
    // wait for them.
    if (this.#core.transport.kind === "remote") {
      preloadParser();
      void preloadDecoder();
    }
  }

  #checkRunning(): void {
    if (this.#state !== "run") throw new StateError("Pool not running");
  }


  #track(job: Job): () => void {
    this.#jobs.add(job);
    return () => {
      if (!this.#jobs.delete(job)) return;
      if (this.#state === "close" && this.#jobs.size === 0) this.#stopTransport();
    };
  }

  /** Closes the transport once (after the last job of a closed pool). */
  #stopTransport(): void {
    if (this.#stopped) return;
    this.#stopped = this.#core.close();
    this.#resolveDrained?.();
  }

  /**
   * Runs `fn(...args)` in a worker and returns its result.
   * With `signal`, aborting rejects with `signal.reason` and kills the
   * worker running it (it is replaced); with `timeout` (ms), a task still
   * running then rejects with `TimeoutError` the same way.
   * @throws (rejects) {StateError} when the pool is not running; {TypeError} for bad arguments; {SerializationError} for a function or value that cannot be shipped; the task's own error; {WorkerLostError} when its worker died; `signal.reason` when aborted; {TimeoutError} past `timeout`.
   */
  apply<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, args?: A, options?: CancelOptions): Promise<R>;
  /**
   * Runs a module function named by {@link task} with `args` in a worker; `R` is its result type (not inferred).
   * @throws (rejects) as the overload above.
   */
  apply<R = unknown>(fn: TaskRef, args?: unknown[], options?: CancelOptions): Promise<R>;
  async apply(fn: TaskFn, args?: unknown[], options?: CancelOptions): Promise<unknown> {
    return await this.#applyJob(fn, args, options, CANCEL_OPTIONS, "apply").get();
  }

  /**
   * Submits `fn(...args)` and returns its {@link AsyncResult} at once.
   * `callback` / `errorCallback` run once, before the result settles.
   * @throws {StateError} when the pool is not running; {TypeError} for bad arguments; {SerializationError} for a function that cannot be shipped.
   */
  applyAsync<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, args?: A, options?: ApplyAsyncOptions<R>): AsyncResult<R>;
  /**
   * Submits a module function named by {@link task}; `R` is its result type (not inferred).
   * @throws as the overload above.
   */
  applyAsync<R = unknown>(fn: TaskRef, args?: unknown[], options?: ApplyAsyncOptions<R>): AsyncResult<R>;
  applyAsync(fn: TaskFn, args?: unknown[], options?: ApplyAsyncOptions<unknown>): AsyncResult<unknown> {
    return this.#applyJob(fn, args, options, APPLY_ASYNC_OPTIONS, "applyAsync");
  }

  #applyJob(fn: TaskFn, args: unknown[] | undefined, o: ApplyAsyncOptions<unknown> | undefined, allowed: readonly string[], what: string): AsyncResult<unknown> {
    this.#checkRunning();
    checkFn(fn, what);
    const argList = (args ?? []) as unknown[];
    if (!Array.isArray(argList)) throw new TypeError(`${what} args must be an array, got ${show(args)}`);
    const options = checkOptions<ApplyAsyncOptions<unknown>>(`${what} options`, o, allowed);
    checkCallbacks(options, what);
    const cancel = checkCancelOptions(what, options);
    const submit = this.#core.submitter(fn);
    const result = new AsyncResult<unknown>();
    let finished = false;
    const guard = new JobGuard(what, cancel, (reason) => settle(false, reason));
    const settle = (ok: boolean, value: unknown) => {
      if (finished) return;
      finished = true;
      untrack();
      guard.end();
      try {
        if (ok) options.callback?.(value);
        else options.errorCallback?.(value);
      } catch (err) {
        reportCallbackError(ok ? "callback" : "errorCallback", err);
      }
      settleResult(result, ok, value);
    };
    const untrack = this.#track({ abort: (error) => settle(false, error) });
    guard.watch();
    if (!guard.aborted) guard.runner(submit)([argList], false, (o) => (o.ok ? settle(true, o.values[0]) : settle(false, o.error)));
    return result;
  }

  /**
   * `fn` over every item, results in input order.
   * @throws (rejects) {StateError} when the pool is not running; {TypeError}/{RangeError} for bad arguments; the first error of a task or of the input.
   */
  map<A, R>(fn: ItemFn<A, R>, iterable: InputIterable<A>, chunksize?: number | PoolMapOptions): Promise<R[]>;
  /**
   * `map` of a module function named by {@link task}; `R` is its result type (not inferred).
   * @throws (rejects) as the overload above.
   */
  map<R = unknown>(fn: TaskRef, iterable: InputIterable<unknown>, chunksize?: number | PoolMapOptions): Promise<R[]>;
  async map(fn: TaskFn, iterable: InputIterable<unknown>, chunksize?: number | PoolMapOptions): Promise<unknown[]> {
    return await this.#mapJob(fn, iterable, mapOptions(chunksize), MAP_OPTIONS, false, "map").get();
  }

  /**
   * Asynchronous `map`: returns an {@link AsyncResult} of the whole list at once.
   * @throws {StateError} when the pool is not running; {TypeError}/{RangeError} for bad arguments.
   */
  mapAsync<A, R>(fn: ItemFn<A, R>, iterable: InputIterable<A>, options?: MapAsyncOptions<R>): AsyncResult<R[]>;
  /**
   * `mapAsync` of a module function named by {@link task}; `R` is its result type (not inferred).
   * @throws as the overload above.
   */
  mapAsync<R = unknown>(fn: TaskRef, iterable: InputIterable<unknown>, options?: MapAsyncOptions<R>): AsyncResult<R[]>;
  mapAsync(fn: TaskFn, iterable: InputIterable<unknown>, options?: MapAsyncOptions<unknown>): AsyncResult<unknown[]> {
    return this.#mapJob(fn as TaskFn, iterable, options as MapAsyncOptions<unknown>, MAP_ASYNC_OPTIONS, false, "mapAsync");
  }

  /**
   * `fn(...args)` for every argument array, results in input order.
   * @throws (rejects) as {@link Pool.map}.
   */
  starmap<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, iterable: InputIterable<readonly unknown[]>, chunksize?: number | PoolMapOptions): Promise<R[]>;
  /**
   * `starmap` of a module function named by {@link task}; `R` is its result type (not inferred).
   * @throws (rejects) as {@link Pool.map}.
   */
  starmap<R = unknown>(fn: TaskRef, iterable: InputIterable<readonly unknown[]>, chunksize?: number | PoolMapOptions): Promise<R[]>;
  async starmap(fn: TaskFn, iterable: InputIterable<readonly unknown[]>, chunksize?: number | PoolMapOptions): Promise<unknown[]> {
    return await this.#mapJob(fn, iterable, mapOptions(chunksize), MAP_OPTIONS, true, "starmap").get();
  }

  /**
   * Asynchronous `starmap`.
   * @throws as {@link Pool.mapAsync}.
   */
  starmapAsync<A extends unknown[], R>(
    fn: (...args: A) => R | PromiseLike<R>,
    iterable: InputIterable<readonly unknown[]>,
    options?: MapAsyncOptions<R>,
  ): AsyncResult<R[]>;
  /**
   * `starmapAsync` of a module function named by {@link task}; `R` is its result type (not inferred).
   * @throws as {@link Pool.mapAsync}.
   */
  starmapAsync<R = unknown>(fn: TaskRef, iterable: InputIterable<readonly unknown[]>, options?: MapAsyncOptions<R>): AsyncResult<R[]>;
  starmapAsync(fn: TaskFn, iterable: InputIterable<readonly unknown[]>, options?: MapAsyncOptions<unknown>): AsyncResult<unknown[]> {
    return this.#mapJob(fn as TaskFn, iterable, options as MapAsyncOptions<unknown>, MAP_ASYNC_OPTIONS, true, "starmapAsync");
  }

  #limits() {
    return { maxChunks: Math.max(MAX_CHUNKS_IN_FLIGHT, 4 * this.processes), maxBytes: MAX_BYTES_IN_FLIGHT, minChunks: 2 * this.processes };
  }

  #mapJob(fn: TaskFn, iterable: unknown, o: MapAsyncOptions<unknown> | undefined, allowed: readonly string[], star: boolean, what: string): AsyncResult<unknown[]> {
    this.#checkRunning();
    checkFn(fn, what);
    const options = checkMapOptions(o, what, allowed);
    const explicit = checkChunksize(options.chunksize, what);
    const cancel = checkCancelOptions(what, options);
    const input = openInput(iterable, what);
    const submit = this.#core.submitter(fn);
    const result = new AsyncResult<unknown[]>();
    const chunks: unknown[][] = [];
    let firstError: { error: unknown } | undefined;
    let submitted = 0;
    let completed = 0;
    let total = -1;
    let finished = false;
    let feeder: ChunkFeeder | undefined;
    const guard = new JobGuard(what, cancel, (reason) => settle(false, reason));
    const settle = (ok: boolean, value: unknown) => {
      if (finished) return;
      finished = true;
      untrack();
      guard.end();
      feeder?.stop();
      try {
        if (ok) options.callback?.(value as unknown[]);
        else options.errorCallback?.(value);
      } catch (err) {
        reportCallbackError(ok ? "callback" : "errorCallback", err);
      }
      settleResult(result, ok, value);
    };
    const maybeDone = () => {
      if (total < 0 || completed < submitted) return;
      if (firstError) settle(false, firstError.error);
      else settle(true, concatChunks(chunks));
    };
    const sink: FeederSink = {
      submitted: () => void submitted++,
      finished: (index, outcome, bytes) => {
        completed++;
        if (outcome.ok) chunks[index] = outcome.values;
        else firstError ??= { error: outcome.error };
        if (!finished) feeder?.release(bytes);
        maybeDone();
      },
      ended: (n) => {
        total = n;
        maybeDone();
      },
    };
    const job: Job = {
      abort: (error) => settle(false, error),
      unbound: () => feeder?.unbound(),
    };
    const untrack = this.#track(job);
    guard.watch();
    const run = guard.runner(submit);
    const start = (chunksize: number, prefix?: { items: unknown[]; exhausted: boolean }) => {
      feeder = new ChunkFeeder(input, chunksize, star, run, sink, this.#limits(), prefix);
      if (this.#state === "close") feeder.unbound();
      feeder.pump();
    };
    // Aborted before it started: read and run nothing.
    if (guard.aborted) return result;
    const n = sizeOf(iterable);
    if (explicit !== undefined) {
      log("%s: chunksize %d (given)", what, explicit);
      start(explicit);
    } else if (n !== undefined) {
      const size = defaultChunksize(n, this.processes);
      log("%s: chunksize %d for %d items on %d processes", what, size, n, this.processes);
      start(size);
    } else {
      lookahead(input).then(
        (pre) => {
          if (finished) return;
          const size = defaultChunksize(pre.items.length, this.processes);
          log("%s: chunksize %d from a lookahead of %d items (%s) on %d processes", what, size, pre.items.length, pre.exhausted ? "the whole input" : "more follow", this.processes);
          start(size, pre);
        },
        (error) => {
          // The input failed before any task was cut: the job fails with that error, as itself.
          total = 0;
          firstError = { error };
          maybeDone();
        },
      );
    }
    return result;
  }

  /**
   * Results of `fn` over the items in input order, each as soon as it and
   * all before it are done.
   * @throws {StateError} when the pool is not running; {TypeError}/{RangeError} for bad arguments (chunksize < 1).
   */
  imap<A, R>(fn: ItemFn<A, R>, iterable: InputIterable<A>, chunksize?: number | PoolMapOptions): IMapIterator<R>;
  /**
   * `imap` of a module function named by {@link task}; `R` is its result type (not inferred).
   * @throws as the overload above.
   */
  imap<R = unknown>(fn: TaskRef, iterable: InputIterable<unknown>, chunksize?: number | PoolMapOptions): IMapIterator<R>;
  imap(fn: TaskFn, iterable: InputIterable<unknown>, chunksize?: number | PoolMapOptions): IMapIterator<unknown> {
    return this.#imapJob(fn as TaskFn, iterable, mapOptions(chunksize), true, "imap");
  }

  /**
   * Results of `fn` over the items in completion order.
   * @throws as {@link Pool.imap}.
   */
  imapUnordered<A, R>(fn: ItemFn<A, R>, iterable: InputIterable<A>, chunksize?: number | PoolMapOptions): IMapIterator<R>;
  /**
   * `imapUnordered` of a module function named by {@link task}; `R` is its result type (not inferred).
   * @throws as {@link Pool.imap}.
   */
  imapUnordered<R = unknown>(fn: TaskRef, iterable: InputIterable<unknown>, chunksize?: number | PoolMapOptions): IMapIterator<R>;
  imapUnordered(fn: TaskFn, iterable: InputIterable<unknown>, chunksize?: number | PoolMapOptions): IMapIterator<unknown> {
    return this.#imapJob(fn as TaskFn, iterable, mapOptions(chunksize), false, "imapUnordered");
  }

  #imapJob(fn: TaskFn, iterable: unknown, o: PoolMapOptions, ordered: boolean, what: string): IMapIterator<unknown> {
    this.#checkRunning();
    checkFn(fn, what);
    const options = checkOptions<PoolMapOptions>(`${what} options`, o, MAP_OPTIONS);
    const size = checkChunksize(options.chunksize ?? 1, what)!;
    const cancel = checkCancelOptions(what, options);
    const input = openInput(iterable, what);
    const submit = this.#core.submitter(fn);
    let untrack: () => void = () => {};
    const { iterator, control } = openIMap<unknown>(ordered, () => {
      guard.end();
      untrack();
    });
    untrack = this.#track(control);
    const guard = new JobGuard(what, cancel, control.abort);
    guard.watch();
    // Aborted before it started: read and run nothing.
    if (guard.aborted) return iterator;
    log("%s: chunksize %d (%s)", what, size, options.chunksize === undefined ? "default" : "given");
    const feeder = new ChunkFeeder(input, size, false, guard.runner(submit), control.sink, this.#limits());
    control.attach(feeder);
    feeder.pump();
    return iterator;
  }

  /**
   * What the pool has done so far (workerpool's `stats()`, piscina's
   * histograms): tasks done and failed, workers up and replaced, chunks
   * waiting for a worker, and percentiles of recent chunk run times. Cheap:
   * counters are kept as chunks end; percentiles are computed by this call.
   *
   * @example
   * ```ts
   * import { Pool } from "./mod.ts";
   * await using pool = new Pool(2);
   * await pool.map((x: number) => x * 2, [1, 2, 3, 4], 2);
   * const s = pool.stats();
   * // The second worker may still be starting: a pool starts half its workers first.
   * console.assert(s.tasksDone === 4 && s.tasksFailed === 0 && s.workersAlive >= 1 && s.workersAlive <= 2);
   * console.assert(s.runTimeMs.p50 >= 0 && s.runTimeMs.p99 >= s.runTimeMs.p50);
   * ```
   */
  stats(): PoolStats {
    const core = this.#core;
    const workers = core.transport.kind === "remote" ? core.transport.workerStats?.() : undefined;
    return {
      tasksDone: core.stats.tasksDone,
      tasksFailed: core.stats.tasksFailed,
      workersAlive: workers?.alive ?? 0,
      workersReplaced: workers?.replaced ?? 0,
      queuedChunks: core.unstarted,
      coldStarts: workers?.coldStarts ?? 0,
      runTimeMs: core.stats.runTimeMs(),
    };
  }

  /** Stops accepting work; queued work still completes, then the workers exit. Idempotent. */
  close(): Promise<void> {
    if (this.#state === "run") {
      this.#state = "close";
      for (const job of this.#jobs) job.unbound?.();
      if (this.#jobs.size === 0) this.#stopTransport();
    }
    return Promise.resolve();
  }

  /** Stops the workers at once; unfinished results reject with `StateError`. */
  terminate(): Promise<void> {
    if (this.#state !== "terminate") {
      this.#state = "terminate";
      const error = new StateError("Pool was terminated before the task finished");
      for (const job of [...this.#jobs]) job.abort(error);
      this.#jobs.clear();
      this.#stopped = this.#core.terminate();
      this.#resolveDrained?.();
    }
    return this.#stopped!.then(() => {});
  }

  /**
   * Waits for the workers to exit after `close()` or `terminate()`.
   * @throws (rejects) {StateError} when the pool is still running.
   */
  async join(): Promise<void> {
    if (this.#state === "run") throw new StateError("Pool is still running (call close() or terminate() first)");
    if (this.#stopped === undefined) {
      this.#drained ??= new Promise<void>((resolve) => {
        this.#resolveDrained = resolve;
      });
      await this.#drained;
    }
    await this.#stopped;
  }

  /** `await using pool = new Pool()` terminates it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.terminate();
  }
}

/**
 * The chunks' values as one list. `Array.prototype.flat` costs about a
 * millisecond for 10 000 items on Node 20; `concat` copies them in bulk.
 * Spread arguments are bounded, so a job of very many chunks (chunksize 1
 * over millions of items) fills a list sized up front instead.
 */
function concatChunks(chunks: unknown[][]): unknown[] {
  if (chunks.length === 1) return chunks[0];
  if (chunks.length <= 4096) return ([] as unknown[]).concat(...chunks);
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Array<unknown>(n);
  let at = 0;
  for (const c of chunks) for (let i = 0; i < c.length; i++) out[at++] = c[i];
  return out;
}
