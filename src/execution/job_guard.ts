/**
 * Cancellation of one pool job: its `signal` and per-task `timeout`. The
 * guard knows every batch the job has in flight; aborting fails the job
 * with the signal's reason as it is, then stops those batches (queued ones
 * are dropped, running ones stopped by the transport), so the job's work
 * ends and nothing else's does. A batch still running `timeout` ms per
 * task after a worker started it fails the job with a `TimeoutError` the
 * same way: a task's time limit is for running, so time spent waiting for a
 * free worker behind other work does not count (SPEC: "a task past
 * `timeout`"), as in piscina and workerpool.
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import { checkTimeout, show } from "../validate.ts";
import type { RunChunk } from "./chunk_feeder.ts";
import type { BatchTicket, SubmitChunk } from "./execution_core.ts";

/** The `signal` and `timeout` options every `Pool` method takes. */
export interface CancelOptions {
  /** Aborting it rejects the job with `signal.reason` and stops its work (a worker running it is killed and replaced). */
  signal?: AbortSignal;
  /**
   * Ms per task: a chunk still unfinished `timeout × its tasks` ms after a
   * worker started it rejects the job with `TimeoutError` and is stopped as
   * an abort is. Its wait for a free worker does not count (on a transport
   * that does not report when a worker starts a batch, the clock starts when
   * the batch is handed to it). @default no limit
   */
  timeout?: number;
}

/** The option names of {@link CancelOptions}, for option checks. */
export const CANCEL_OPTIONS = ["signal", "timeout"] as const;

/**
 * Checks `signal` and `timeout`.
 * @throws {TypeError} for a `signal` that is not an `AbortSignal` or a `timeout` that is not a number.
 * @throws {RangeError} for a NaN `timeout`.
 */
export function checkCancelOptions(what: string, o: CancelOptions): { signal?: AbortSignal; timeout?: number } {
  if (o.signal != null && !(o.signal instanceof AbortSignal)) {
    throw new TypeError(`${what} signal must be an AbortSignal, got ${show(o.signal)}`);
  }
  return { signal: o.signal ?? undefined, timeout: checkTimeout(`${what} timeout`, o.timeout) };
}

/** A `stop` of a batch needs an Error; the job itself rejects with the reason as it is. */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/**
 * Watches one job; see the module comment.
 *
 * @example
 * ```ts
 * import { JobGuard } from "./src/execution/job_guard.ts";
 * const controller = new AbortController();
 * let failed: unknown;
 * const guard = new JobGuard("map", { signal: controller.signal }, (e: unknown) => (failed = e));
 * guard.watch();
 * controller.abort("stop");
 * console.assert(failed === "stop" && guard.aborted);
 * ```
 */
export class JobGuard {
  #tickets = new Set<BatchTicket>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #aborted = false;
  /** The job settled (or was aborted): batches that start later are not timed. */
  #ended = false;
  #onAbort = () => this.abort(this.options.signal!.reason);

  /** `fail` is called once, when the signal aborts or a batch times out; see {@link JobGuard.watch}. */
  constructor(
    private readonly what: string,
    private readonly options: { signal?: AbortSignal; timeout?: number },
    private readonly fail: (reason: unknown) => void,
  ) {}

  /** Starts watching the signal; aborts at once (calling `fail` now) if it already has. */
  watch(): void {
    const signal = this.options.signal;
    if (signal?.aborted) this.abort(signal.reason);
    else signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Whether the job was aborted or timed out (then submit nothing). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** `submit` with each batch tracked (and timed from its start on a worker, with a `timeout`) until it ends. */
  runner(submit: SubmitChunk): RunChunk {
    const timeout = this.options.timeout;
    return (tasks, each, done) => {
      // A synchronous transport may end the batch before `submit` returns,
      // and start it (the clock below) before `submit` returns its ticket.
      const batch: { ticket?: BatchTicket; timer?: ReturnType<typeof setTimeout>; ended: boolean } = { ended: false };
      const startClock = () => {
        if (batch.ended || this.#ended || batch.timer !== undefined) return;
        batch.timer = setTimeout(
          () => this.abort(new TimeoutError(`${this.what}: a task did not finish within its timeout of ${timeout} ms`)),
          timeout! * Math.max(1, tasks.length),
        );
        this.#timers.add(batch.timer);
      };
      batch.ticket = submit(tasks, each, (o) => {
        batch.ended = true;
        if (batch.ticket) this.#tickets.delete(batch.ticket);
        if (batch.timer !== undefined) {
          clearTimeout(batch.timer);
          this.#timers.delete(batch.timer);
        }
        done(o);
      }, timeout === undefined ? undefined : { started: startClock });
      if (!batch.ended && !this.#aborted) this.#tickets.add(batch.ticket);
      return batch.ticket.bytes;
    };
  }

  /** Fails the job with `reason` and stops its batches. Idempotent. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.end();
    this.fail(reason);
    const error = asError(reason);
    for (const ticket of [...this.#tickets]) ticket.stop(error);
    this.#tickets.clear();
  }

  /** The job ended: stop listening and timing. */
  end(): void {
    this.#ended = true;
    this.options.signal?.removeEventListener("abort", this.#onAbort);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
