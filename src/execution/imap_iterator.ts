/**
 * The iterator `imap` and `imapUnordered` return: CPython's `IMapIterator`
 * and `IMapUnorderedIterator` as a JS async iterator.
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import { checkTimeout } from "../validate.ts";
import type { ChunkFeeder, ChunkOutcome, FeederSink } from "./chunk_feeder.ts";

/** How `Pool` drives the job behind an {@link IMapIterator}; not part of the iterator's public type. */
export interface IMapControl {
  /** Connects the feeder of this job's input. */
  attach(feeder: ChunkFeeder): void;
  /** What the feeder reports to. */
  readonly sink: FeederSink;
  /** `terminate()`: what is not yet done will never be. */
  abort(error: unknown): void;
  /** `close()`: keep submitting even if nobody consumes. */
  unbound(): void;
}

/**
 * Makes an iterator and the control `Pool` drives it with (internal to
 * skypool: the constructor is private so that users see only the iterator).
 */
export let openIMap: <R>(ordered: boolean, onJobDone: () => void) => { iterator: IMapIterator<R>; control: IMapControl };

interface Waiter<R> {
  resolve: (r: IteratorResult<R>) => void;
  reject: (e: unknown) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Results of `pool.imap` (input order) or `pool.imapUnordered` (completion
 * order). Use it with `for await`, or call `next(timeout)` yourself. A task
 * error (or an error thrown by the input) is thrown at its position: the
 * values before it are yielded first, and the iteration ends there. The
 * work runs whether or not anyone iterates; breaking out of the loop stops
 * reading the input.
 *
 * @example
 * ```ts
 * import { Pool } from "./mod.ts";
 * const pool = new Pool(0);
 * const out: number[] = [];
 * for await (const y of pool.imap((x: number) => x * 2, [1, 2, 3])) out.push(y);
 * console.assert(out.join() === "2,4,6");
 * ```
 */
export class IMapIterator<R> implements AsyncIterableIterator<R> {
  #feeder: ChunkFeeder | undefined;
  #chunks = new Map<number, { outcome: ChunkOutcome; bytes: number }>();
  #completedOrder: number[] = [];
  #nextIndex = 0;
  #consumed = 0;
  #current: unknown[] = [];
  #pos = 0;
  #currentBytes = 0;
  #total = -1;
  #submitted = 0;
  #completed = 0;
  #finished = false;
  #abortError: unknown;
  #aborted = false;
  #waiters: Waiter<R>[] = [];
  #jobDone = false;
  #serving = false;
  #serveAgain = false;

  readonly #ordered: boolean;
  readonly #onJobDone: () => void;

  static {
    openIMap = <R>(ordered: boolean, onJobDone: () => void) => {
      const iterator = new IMapIterator<R>(ordered, onJobDone);
      return { iterator, control: iterator.#control };
    };
  }

  private constructor(ordered: boolean, onJobDone: () => void) {
    this.#ordered = ordered;
    this.#onJobDone = onJobDone;
  }

  readonly #control: IMapControl = {
    attach: (feeder) => {
      this.#feeder = feeder;
    },
    sink: {
      submitted: () => {
        this.#submitted++;
      },
      finished: (index, outcome, bytes) => {
        this.#completed++;
        if (!this.#finished) {
          this.#chunks.set(index, { outcome, bytes });
          if (!this.#ordered) this.#completedOrder.push(index);
        } else {
          this.#feeder?.release(bytes);
        }
        this.#serve();
        this.#checkJobDone();
      },
      ended: (total) => {
        this.#total = total;
        this.#serve();
        this.#checkJobDone();
      },
    },
    abort: (error) => this.#abort(error),
    unbound: () => this.#feeder?.unbound(),
  };

  #checkJobDone(): void {
    if (this.#jobDone || this.#total < 0 || this.#completed < this.#submitted) return;
    this.#jobDone = true;
    this.#onJobDone();
  }

  #abort(error: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortError = error;
    this.#feeder?.stop();
    this.#serve();
    if (!this.#jobDone) {
      this.#jobDone = true;
      this.#onJobDone();
    }
  }

  #finish(): void {
    this.#finished = true;
    this.#feeder?.stop();
    for (const [, c] of this.#chunks) this.#feeder?.release(c.bytes);
    this.#chunks.clear();
  }

  /** The next item; `done` after the last. Rejects with `TimeoutError` if nothing arrives within `timeout` ms. */
  #step(): { value: R } | { done: true } | { error: unknown } | undefined {
    for (;;) {
      if (this.#pos < this.#current.length) {
        const value = this.#current[this.#pos];
        this.#current[this.#pos++] = undefined;
        if (this.#pos === this.#current.length) {
          // State first, then release: releasing pumps the feeder, which can
          // finish chunks (and re-enter #serve) synchronously.
          const bytes = this.#currentBytes;
          this.#current = [];
          this.#pos = 0;
          this.#currentBytes = 0;
          this.#feeder?.release(bytes);
        }
        return { value: value as R };
      }
      if (this.#finished) return { done: true };
      let index: number | undefined;
      if (this.#ordered) {
        if (this.#chunks.has(this.#nextIndex)) index = this.#nextIndex;
      } else if (this.#completedOrder.length > 0) {
        index = this.#completedOrder.shift();
      }
      if (index !== undefined) {
        const c = this.#chunks.get(index)!;
        this.#chunks.delete(index);
        this.#nextIndex++;
        this.#consumed++;
        if (!c.outcome.ok) {
          this.#feeder?.release(c.bytes);
          this.#finish();
          return { error: c.outcome.error };
        }
        this.#current = c.outcome.values;
        this.#pos = 0;
        this.#currentBytes = c.bytes;
        if (this.#current.length === 0) this.#feeder?.release(c.bytes);
        continue;
      }
      if (this.#total >= 0 && this.#consumed >= this.#total) {
        this.#finish();
        return { done: true };
      }
      if (this.#aborted) {
        this.#finish();
        return { error: this.#abortError };
      }
      return undefined;
    }
  }

  /**
   * Hands results to waiting `next()` calls. Not re-entrant: a release inside
   * #step may finish chunks synchronously (inline transport, end of input),
   * whose sink callbacks call #serve again; those calls only mark that there
   * is more to serve, and the outer loop serves it, so that no value is
   * taken from the iterator's state without reaching a waiter.
   */
  #serve(): void {
    if (this.#serving) {
      this.#serveAgain = true;
      return;
    }
    this.#serving = true;
    try {
      do {
        this.#serveAgain = false;
        while (this.#waiters.length > 0) {
          const w = this.#waiters[0];
          const r = this.#step();
          if (r === undefined) break;
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          if (w.timer !== undefined) clearTimeout(w.timer);
          if ("error" in r) w.reject(r.error);
          else if ("done" in r) w.resolve({ done: true, value: undefined });
          else w.resolve({ done: false, value: r.value });
        }
      } while (this.#serveAgain && this.#waiters.length > 0);
    } finally {
      this.#serving = false;
    }
  }

  /**
   * The next result; `{ done: true }` after the last.
   * @throws (rejects) the task's error at its position; `TimeoutError` when nothing arrives within `timeout` ms (the iterator stays usable).
   */
  next(timeout?: number): Promise<IteratorResult<R>> {
    let ms: number | undefined;
    try {
      ms = checkTimeout("IMapIterator.next timeout", timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<IteratorResult<R>>((resolve, reject) => {
      const w: Waiter<R> = { resolve, reject };
      this.#waiters.push(w);
      this.#serve();
      if (ms !== undefined && this.#waiters.includes(w)) {
        w.timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          reject(new TimeoutError(`no result within ${ms} ms`));
        }, ms);
      }
    });
  }

  /** Stops the iteration (a `break` out of `for await`): the input is no longer read. */
  return(value?: unknown): Promise<IteratorResult<R>> {
    if (!this.#finished) this.#finish();
    this.#serve();
    return Promise.resolve({ done: true, value: value as R });
  }

  /** Returns this iterator, so that it works with `for await`. */
  [Symbol.asyncIterator](): this {
    return this;
  }
}
