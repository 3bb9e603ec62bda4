/**
 * The execution core `Pool`, `Process` and `FunctionExecutor` share: one
 * transport, functions shipped once, chunks of tasks encoded into batches
 * and their outcomes turned back into values or errors. Concurrency (how
 * many batches the core hands the transport at once) is the core's;
 * chunk sizing is the caller's. Batches beyond the concurrency bound wait
 * in the core's queue, where they can be cancelled.
 *
 * @module
 */
import { SerializationError, StateError } from "../errors.ts";
import { encode } from "../task/codec.ts";
import type { FunctionRef, TaskFn } from "../task/function_ref.ts";
import type { AnyTransport, StopBatch } from "../transport/transport.ts";
import { cutBySize, joinOutcomes, type Piece } from "./batch_cutter.ts";
import type { ChunkOutcome } from "./chunk_feeder.ts";
import { FunctionShipper } from "./function_shipper.ts";
import { releaseStdoutRelay, type StdoutTarget, stdoutTarget } from "./stdout_relay.ts";
import { toChunkOutcome } from "./outcome.ts";
import { RunStats } from "./run_stats.ts";

/** Options of {@link ExecutionCore}. */
export interface ExecutionCoreOptions {
  /**
   * Batches handed to the transport at once. `undefined`: no bound of the
   * core's own (the transport queues and paces them itself).
   */
  concurrency?: number;
}

/** What a pool asks of its workers before they take tasks. */
export interface CoreSetup {
  initializer?: TaskFn;
  initargs?: unknown[];
  maxtasksperchild?: number;
}

/** A submitted batch. */
export interface BatchTicket {
  /** Encoded bytes it holds in flight (0 when nothing was encoded). */
  readonly bytes: number;
  /**
   * Drops the batch if it is still in the core's queue: its `done` is then
   * never called. Returns whether it was dropped (false once dispatched).
   */
  cancel(): boolean;
  /**
   * Ends the batch now: `done` is called at once with `error` (and never
   * again); queued, it is dropped; running, the transport stops it if it
   * can (see `StopBatch`), else its outcome is ignored.
   */
  stop(error: Error): void;
}

/** Hooks of one batch. */
export interface BatchHooks {
  /**
   * How many units of work the batch holds, when that is not its task
   * count (one task that runs many calls): transports predict run times
   * per unit.
   */
  units?: number;
  /** Called when the batch leaves the core's queue for the transport. */
  dispatched?(): void;
  /**
   * Called once when a worker starts the batch (on a transport that does not
   * report starts, when it is handed to the transport), unless it ended first.
   */
  started?(): void;
}

/**
 * Submits one chunk: `tasks` are argument lists (task i is
 * `fn(...tasks[i])`), or with `each` single arguments (`fn(tasks[i])`).
 * `done` is called once, unless the batch is cancelled while queued.
 */
export type SubmitChunk = (tasks: unknown[], each: boolean, done: (outcome: ChunkOutcome) => void, hooks?: BatchHooks) => BatchTicket;

interface Queued {
  send: () => void;
  fail: (error: Error) => void;
  dropped: boolean;
}

const NOTHING_TO_CANCEL = () => false;

/** A ticket for a batch that never reached the transport (it already failed). */
function settledTicket(bytes: number): BatchTicket {
  return { bytes, cancel: NOTHING_TO_CANCEL, stop: () => {} };
}

/**
 * Runs chunks of tasks on one transport.
 *
 * @example
 * ```ts
 * import { ExecutionCore } from "./src/execution/execution_core.ts";
 * import { InlineTransport } from "./src/transport/inline.ts";
 * const core = new ExecutionCore(new InlineTransport());
 * core.start({});
 * const values = await new Promise((resolve) => {
 *   core.submitter((x: number) => x * 2)([1, 2], true, (o) => resolve(o.ok ? o.values : o.error));
 * });
 * console.assert(String(values) === "2,4");
 * ```
 */
export class ExecutionCore {
  /** The transport batches run on. */
  readonly transport: AnyTransport;
  /** Batches handed to the transport at once at most (`Infinity`: no bound of the core's own). */
  readonly concurrency: number;
  #shipper = new FunctionShipper();
  #queue: Queued[] = [];
  #queueHead = 0;
  #queuedCount = 0;
  #inFlight = 0;
  #drainWaiters: (() => void)[] = [];
  #stopped: Promise<void> | undefined;
  /** Batches submitted that no worker has started and that have not ended. */
  #unstarted = 0;
  /** Tasks done and failed, and recent run times. */
  readonly stats: RunStats = new RunStats();

  /** @throws {RangeError} for a `concurrency` that is not a positive integer. */
  constructor(transport: AnyTransport, options: ExecutionCoreOptions = {}) {
    const c = options.concurrency;
    if (c !== undefined && (typeof c !== "number" || !Number.isInteger(c) || c < 1)) {
      throw new RangeError(`concurrency must be a positive integer, got ${String(c)}`);
    }
    this.transport = transport;
    this.concurrency = c ?? Infinity;
  }

  /** How many batches the transport runs at once. */
  get size(): number {
    return this.transport.size;
  }

  /** Batches waiting in the core's queue (not yet handed to the transport). */
  get queued(): number {
    return this.#queuedCount;
  }

  /** Batches submitted that no worker has started yet (in the core's queue or the transport's). */
  get unstarted(): number {
    return this.#unstarted;
  }

  /**
   * Starts the transport, shipping the initializer first.
   * @throws {SerializationError} when the initializer or its arguments cannot be shipped.
   */
  start(setup: CoreSetup): void {
    const t = this.transport;
    const { initializer, initargs = [], maxtasksperchild } = setup;
    if (t.kind === "in-process") {
      t.start(initializer != null ? { fn: initializer, args: initargs } : undefined);
    } else {
      t.start({
        initializer: initializer != null ? { fn: this.ship(initializer), args: encode(initargs) } : undefined,
        maxtasksperchild,
      });
    }
  }

  /**
   * The shipped form of `fn` (cached).
   * @throws {SerializationError} for a function that cannot be shipped.
   */
  ship(fn: TaskFn): FunctionRef {
    return this.#shipper.ship(fn);
  }

  /**
   * A chunk submitter for `fn`. On a transport that takes bytes, `fn` is
   * shipped now.
   * @throws {SerializationError} for a function that cannot be shipped.
   */
  submitter(fn: TaskFn): SubmitChunk {
    const t = this.transport;
    if (t.kind === "in-process") {
      return (tasks, each, done, hooks) => {
        const argLists = each ? tasks.map((x) => [x]) : (tasks as unknown[][]);
        return this.#enqueue(0, tasks.length, hooks, (finish, started) => {
          started();
          t.runChunk(fn, argLists, (o) => finish(o.status === "ok" ? { ok: true, values: o.values } : { ok: false, error: o.error }));
        }, done);
      };
    }
    const ref = this.ship(fn);
    // `counted`: the tasks this batch adds to the stats when it ends (a piece of a cut chunk adds none: the chunk counts them).
    const send = (tasks: unknown[], payload: Uint8Array, each: boolean, done: (outcome: ChunkOutcome) => void, hooks?: BatchHooks, counted = tasks.length) =>
      this.#enqueue(payload.length, counted, hooks, (finish, started) => {
        // A transport that does not say when a worker starts a batch: the hand-over counts as the start.
        if (!t.reportsStart) started();
        return t.submit({ fn: ref, payload, count: hooks?.units ?? tasks.length, each }, (o) => finish(toChunkOutcome(o)), started);
      }, done);
    return (tasks, each, done, hooks) => {
      let payload: Uint8Array;
      try {
        payload = encode(tasks);
      } catch (err) {
        const error = err instanceof SerializationError
          ? err
          : new SerializationError(`task arguments cannot be serialized: ${(err as Error)?.message ?? err}`);
        queueMicrotask(() => done({ ok: false, error }));
        return settledTicket(0);
      }
      const max = t.maxBatchBytes;
      // A batch of units (one task running many calls) is not cut.
      if (max === undefined || payload.length <= max || tasks.length < 2 || hooks?.units !== undefined) return send(tasks, payload, each, done, hooks);
      return this.#sendPieces(cutBySize(tasks, payload, max), (p, pieceDone, pieceHooks) => send(p.tasks, p.payload, each, pieceDone, pieceHooks, 0), done, hooks);
    };
  }

  /**
   * Sends the pieces of one chunk as batches of their own; the chunk ends,
   * once, when they all have. Its tasks are counted in the stats as the
   * chunk's (a failed chunk fails all its tasks, whichever piece failed);
   * each piece's run time is recorded as a batch's.
   */
  #sendPieces(
    pieces: Piece[],
    send: (piece: Piece, done: (outcome: ChunkOutcome) => void, hooks: BatchHooks) => BatchTicket,
    done: (outcome: ChunkOutcome) => void,
    hooks: BatchHooks | undefined,
  ): BatchTicket {
    const outcomes: ChunkOutcome[] = new Array(pieces.length);
    let left = pieces.length;
    const tasks = pieces.reduce((n, p) => n + p.tasks.length, 0);
    const ended = (i: number, o: ChunkOutcome) => {
      if (outcomes[i] !== undefined) return;
      outcomes[i] = o;
      if (--left > 0) return;
      const joined = joinOutcomes(outcomes);
      this.stats.record(tasks, joined.ok);
      done(joined);
    };
    // The chunk is dispatched and started with its first piece.
    const first = (hook: (() => void) | undefined) => {
      let called = false;
      return () => {
        if (!called) hook?.();
        called = true;
      };
    };
    const pieceHooks: BatchHooks = { dispatched: first(hooks?.dispatched), started: first(hooks?.started) };
    const tickets = pieces.map((p, i) => send(p, (o) => ended(i, o), pieceHooks));
    return {
      bytes: tickets.reduce((sum, t) => sum + t.bytes, 0),
      cancel: () => {
        const dropped = tickets.map((t) => t.cancel());
        if (dropped.every(Boolean)) return true;
        // Some pieces already run: the chunk still ends, as cancelled.
        dropped.forEach((d, i) => d && ended(i, { ok: false, error: new StateError("the batch was cancelled") }));
        return false;
      },
      stop: (error) => tickets.forEach((t) => t.stop(error)),
    };
  }

  #enqueue(
    bytes: number,
    tasks: number,
    hooks: BatchHooks | undefined,
    run: (finish: (o: ChunkOutcome) => void, started: () => void) => StopBatch | void,
    onDone: (o: ChunkOutcome) => void,
  ): BatchTicket {
    // `stop` may settle the batch before the transport does: `done` runs once.
    let settled = false;
    let startedAt = -1;
    this.#unstarted++;
    // Leaves the unstarted count once: when it starts, ends, or is dropped from the queue.
    let counted = true;
    const dropUnstarted = () => {
      if (counted) this.#unstarted--;
      counted = false;
    };
    const started = () => {
      if (settled || startedAt >= 0) return;
      startedAt = performance.now();
      dropUnstarted();
      hooks?.started?.();
    };
    const done = (o: ChunkOutcome) => {
      if (settled) return;
      settled = true;
      dropUnstarted();
      this.stats.record(tasks, o.ok, startedAt >= 0 ? performance.now() - startedAt : undefined);
      onDone(o);
    };
    let stopRunning: StopBatch | void;
    let cancel: () => boolean = NOTHING_TO_CANCEL;
    const stop = (error: Error) => {
      if (settled) return;
      cancel();
      if (stopRunning) stopRunning(error);
      done({ ok: false, error });
    };
    if (this.concurrency === Infinity) {
      // No bound of the core's own: nothing is ever queued here, so nothing to count.
      hooks?.dispatched?.();
      stopRunning = run(done, started);
      return { bytes, cancel, stop };
    }
    const finish = (o: ChunkOutcome) => {
      this.#inFlight--;
      this.#drain();
      done(o);
    };
    const send = () => {
      this.#inFlight++;
      hooks?.dispatched?.();
      stopRunning = run(finish, started);
    };
    if (this.#inFlight < this.concurrency && this.queued === 0) {
      send();
      return { bytes, cancel, stop };
    }
    const entry: Queued = { send, fail: (error) => done({ ok: false, error }), dropped: false };
    this.#queue.push(entry);
    this.#queuedCount++;
    cancel = () => {
      if (entry.dropped) return false;
      entry.dropped = true;
      this.#queuedCount--;
      dropUnstarted();
      this.#drain();
      return true;
    };
    return { bytes, cancel: () => cancel(), stop };
  }

  #drain(): void {
    while (this.#inFlight < this.concurrency && this.#queueHead < this.#queue.length) {
      const entry = this.#queue[this.#queueHead++];
      if (entry.dropped) continue;
      entry.dropped = true;
      this.#queuedCount--;
      entry.send();
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
      for (const resolve of this.#drainWaiters.splice(0)) resolve();
    } else if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /**
   * Where workers publish their stdout for this core's batches
   * (`STREAM_STDOUT`; `undefined` when it is off). The relay it opens is
   * held until this core closes or terminates.
   * @throws (rejects) as `stdoutTarget`.
   */
  stdoutTarget(): Promise<StdoutTarget | undefined> {
    return stdoutTarget(this);
  }

  /** Lets queued and running batches finish, then stops the transport. Idempotent. */
  close(): Promise<void> {
    return this.#stopped ??= this.#whenDrained().then(() => this.transport.close()).finally(() => releaseStdoutRelay(this));
  }

  /**
   * Stops the transport at once: running batches end as the transport
   * reports them (lost); queued ones fail with a `StateError`. Idempotent.
   */
  terminate(): Promise<void> {
    const queued = this.#queue.slice(this.#queueHead).filter((e) => !e.dropped);
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedCount = 0;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
    this.#stopped = this.transport.terminate().finally(() => releaseStdoutRelay(this));
    const error = new StateError("the transport was terminated before the batch started");
    for (const e of queued) {
      e.dropped = true;
      e.fail(error);
    }
    return this.#stopped;
  }

  #whenDrained(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }
}
