/**
 * The seam between "a batch of tasks" and "somewhere that runs it".
 *
 * A transport receives {@link TaskBatch}es — a shipped function plus the
 * encoded argument lists of one chunk — and reports one {@link BatchOutcome}
 * per batch, carrying the encoded results back. It knows nothing of `Pool`,
 * jobs or `AsyncResult`: `pool.ts` (and later the futures executor) cut
 * work into batches and reassemble outcomes. A new backend (`lambda`,
 * `http`, `fleet`) is one new file implementing {@link Transport}.
 *
 * The `inline` transport is the one exception: it runs the function object
 * itself in the calling thread, so it implements {@link InProcessTransport}
 * and never sees bytes.
 *
 * @module
 */
import type { FunctionRef, TaskFn } from "../task/function_ref.ts";

/** Names of the transports skypool knows. */
export type TransportName = "local" | "inline" | "http" | "fleet" | "lambda";

/** One chunk of work: a function and the encoded list of its argument lists. */
export interface TaskBatch {
  /** The function, as shipped by `shipFunction`. Its `id` is stable for one function. */
  readonly fn: FunctionRef;
  /**
   * `encode(argLists)`: one array holding the argument array of every task
   * in the chunk; with `each`, `encode(items)`: one argument per task.
   */
  readonly payload: Uint8Array;
  /** How many units of work the payload holds: its tasks, or the calls of a futures batch (one task running many calls). Transports predict run times per unit. */
  readonly count: number;
  /**
   * Task i is `fn(items[i])` rather than `fn(...argLists[i])`. `map` and
   * `imap` chunks use it: a flat list of items encodes several times faster
   * than a list of one-element arrays.
   */
  readonly each?: boolean;
}

/**
 * How a batch ended, named in the vocabulary of `batch_status.ts` (the
 * worker core's status bytes, plus `lost`).
 * - `ok`: `payload` is `encode(results)`, one result per task, in order.
 * - `threw`: user code threw; `payload` is `encode(thrownValue)`. As in
 *   CPython, a chunk fails as a whole.
 * - `unserializable`: the results could not be encoded in the worker;
 *   `message` names the offending path.
 * - `lost`: the batch will never finish (the worker died, the transport was
 *   terminated or cannot start workers); `error` says why.
 */
export type BatchOutcome =
  | { readonly status: "ok"; readonly payload: Uint8Array }
  | { readonly status: "threw"; readonly payload: Uint8Array }
  | { readonly status: "unserializable"; readonly message: string }
  | { readonly status: "lost"; readonly error: Error };

/**
 * Ends one submitted batch early (its job was aborted or timed out): `done`
 * is called at once with `lost` and `error`, queued work is dropped, and
 * running work is stopped (on `local`, by killing its worker, which is
 * replaced). Other batches are not disturbed. A no-op once `done` ran.
 */
export type StopBatch = (error: Error) => void;

/** What a pool asks of its workers before they take tasks. */
export interface WorkerSetup {
  /** Run once in each worker before its first task. */
  readonly initializer?: { readonly fn: FunctionRef; readonly args: Uint8Array };
  /** Recycle a worker after this many batches (CPython counts chunks). */
  readonly maxtasksperchild?: number;
}

/** What a transport tells about its workers (see `Pool.stats()`). */
export interface WorkerStats {
  /** Worker processes started and not yet exited. */
  readonly alive: number;
  /** Workers started to replace one that exited. */
  readonly replaced: number;
  /** Batches that started a new execution environment (Lambda cold starts). */
  readonly coldStarts?: number;
}

/** A transport that ships encoded batches to workers (every transport but `inline`). */
export interface Transport {
  /** Tells it apart from an {@link InProcessTransport}: batches reach it encoded. */
  readonly kind: "remote";
  /** Short name for messages (`"local"`, `"lambda"`, …). */
  readonly name: string;
  /** How many batches it runs at once (the pool's `processes`). */
  readonly size: number;
  /** Called once by the owner before the first `submit`. */
  start(setup: WorkerSetup): void;
  /**
   * Queues a batch. `done` is called exactly once, never synchronously
   * inside `submit`. Batches start in submission order, each on the first
   * worker that is free. May return a {@link StopBatch} for the batch.
   */
  submit(batch: TaskBatch, done: (outcome: BatchOutcome) => void, started?: () => void): StopBatch | void;
  /**
   * Whether `submit` calls its `started` when a worker begins the batch
   * (before `done`, at most once). Otherwise the owner takes the hand-over
   * to `submit` as the start: per-task timeouts and run times then include
   * the batch's wait in the transport's own queue.
   */
  readonly reportsStart?: boolean;
  /**
   * Encoded task bytes one batch should hold at most (a message size
   * limit): the execution core cuts larger chunks into several batches. A
   * single task over it still goes as one batch.
   */
  readonly maxBatchBytes?: number;
  /** Worker processes up now, and how many were started to replace one that exited (died, was killed, or recycled). */
  workerStats?(): WorkerStats;
  /** Lets queued and running batches finish, then stops the workers. */
  close(): Promise<void>;
  /** Stops the workers at once; unfinished batches end as `lost`. */
  terminate(): Promise<void>;
}

/** Outcome of an in-process chunk: values already decoded (nothing was encoded). */
export type InProcessOutcome =
  | { readonly status: "ok"; readonly values: unknown[] }
  | { readonly status: "threw"; readonly error: unknown };

/** A transport that calls the function object in the calling thread. */
export interface InProcessTransport {
  /** Tells it apart from a {@link Transport}: it is handed function objects and values, not encoded batches. */
  readonly kind: "in-process";
  /** Short name for messages (`"inline"`, …). */
  readonly name: string;
  /** How many chunks it runs at once. */
  readonly size: number;
  /** Runs the initializer (if any) before the first task. */
  start(initializer?: { fn: TaskFn; args: unknown[] }): void;
  /**
   * Runs a chunk in order after every earlier chunk. A synchronous function
   * runs before `runChunk` returns and `done` is called synchronously.
   */
  runChunk(fn: TaskFn, argLists: unknown[][], done: (outcome: InProcessOutcome) => void): void;
  /** Lets queued and running chunks finish. */
  close(): Promise<void>;
  /** Returns without waiting for unfinished chunks (code running in this thread cannot be interrupted). */
  terminate(): Promise<void>;
}

/** Either kind of transport. */
export type AnyTransport = Transport | InProcessTransport;
