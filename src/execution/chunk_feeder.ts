/**
 * Cuts a job's input into chunks and submits them lazily, keeping a bounded
 * number in flight: a generator of millions of items is never materialised,
 * and work starts before the input is exhausted. Sync and async iterables
 * are both accepted. An error thrown by the input ends the feed at the
 * chunk being built (its items are dropped, as CPython does) and is
 * reported as that chunk's failure, as itself; so is a `next()` that
 * breaks the iterator protocol (returns a non-object), as a `TypeError`.
 *
 * @module
 */
import { show } from "../validate.ts";

/** How a chunk ended, seen from a pool job. */
export type ChunkOutcome = { ok: true; values: unknown[] } | { ok: false; error: unknown };

/**
 * Runs one chunk; returns the bytes it holds in flight (0 when nothing was
 * encoded). `tasks` are argument lists (task i is `fn(...tasks[i])`), or
 * with `each` single arguments (task i is `fn(tasks[i])`).
 */
export type RunChunk = (tasks: unknown[], each: boolean, done: (outcome: ChunkOutcome) => void) => number;

/** What a feeder reports to its job. */
export interface FeederSink {
  /** Chunk `index` was submitted with `size` items. */
  submitted(index: number, size: number): void;
  /** Chunk `index` ended. */
  finished(index: number, outcome: ChunkOutcome, bytes: number): void;
  /** The input is exhausted (or failed): there are `total` chunks. */
  ended(total: number): void;
}

/** Bounds on what is in flight. */
export interface FeedLimits {
  /** At most this many chunks in flight... */
  maxChunks: number;
  /** ...and at most this many encoded bytes, */
  maxBytes: number;
  /** ...except that this many chunks may always be in flight. */
  minChunks: number;
}

/** Items pulled from an unsized input before the default chunk size is fixed. */
export const LOOKAHEAD = 4096;
/** How long an async input may take to fill the look-ahead. */
const LOOKAHEAD_MS = 20;

/** `n` for an input whose size is known without consuming it, else `undefined`. */
export function sizeOf(iterable: unknown): number | undefined {
  if (Array.isArray(iterable) || ArrayBuffer.isView(iterable)) return (iterable as { length: number }).length;
  if (typeof iterable === "string") return undefined;
  if (iterable instanceof Set || iterable instanceof Map) return iterable.size;
  try {
    const len = (iterable as { length?: unknown }).length;
    if (typeof len === "number" && Number.isInteger(len) && len >= 0) return len;
  } catch {
    // a throwing length getter: treat the input as unsized
  }
  return undefined;
}

/** CPython's default chunk size: `ceil(n / (4 × processes))`, at least 1. */
export function defaultChunksize(n: number, processes: number): number {
  return Math.max(1, Math.ceil(n / (4 * processes)));
}

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return x != null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/**
 * Opens an input as an iterator, checking that it is iterable and that its
 * iterator method gave an iterator (as `for…of` does).
 * @throws {TypeError} when it is neither iterable nor async iterable, or its iterator is not an object with `next()`.
 */
export function openInput(iterable: unknown, what: string): { it: AnyIterator; async: boolean } {
  let input: { it: AnyIterator; async: boolean };
  if (isAsyncIterable(iterable)) input = { it: iterable[Symbol.asyncIterator](), async: true };
  else if (iterable != null && typeof (iterable as Iterable<unknown>)[Symbol.iterator] === "function") {
    input = { it: (iterable as Iterable<unknown>)[Symbol.iterator](), async: false };
  } else {
    throw new TypeError(`${what} iterable must be an iterable or async iterable, got ${show(iterable)}`);
  }
  const it: unknown = input.it;
  if (it === null || (typeof it !== "object" && typeof it !== "function")) {
    throw new TypeError(`${what}: the input's iterator method returned ${show(it)}, not an iterator object`);
  }
  if (typeof (it as AnyIterator).next !== "function") {
    throw new TypeError(`${what}: the input's iterator has no next() method`);
  }
  return input;
}

/**
 * What `next()` gave, checked as the language checks it in `for…of` (a
 * `next()` that returns `5` or `null` is an error, not an endless stream
 * of `undefined` items).
 * @throws {TypeError} "iterator result is not an object".
 */
function checkedResult(r: unknown): IteratorResult<unknown> {
  if (r === null || (typeof r !== "object" && typeof r !== "function")) {
    throw new TypeError(`iterator result is not an object: the input's next() returned ${show(r)}`);
  }
  return r as IteratorResult<unknown>;
}

/**
 * Reads ahead up to {@link LOOKAHEAD} items of an unsized input (an async
 * one for at most a few ms) so that the CPython chunk size can be computed
 * for inputs that turn out small. Throws what the input throws.
 */
export async function lookahead(input: { it: AnyIterator; async: boolean }): Promise<{ items: unknown[]; exhausted: boolean }> {
  const items: unknown[] = [];
  if (!input.async) {
    const it = input.it as Iterator<unknown>;
    while (items.length < LOOKAHEAD) {
      const r = checkedResult(it.next());
      if (r.done) return { items, exhausted: true };
      items.push(r.value);
    }
    return { items, exhausted: false };
  }
  const it = input.it as AsyncIterator<unknown>;
  const deadline = performance.now() + LOOKAHEAD_MS;
  while (items.length < LOOKAHEAD && performance.now() < deadline) {
    const r = checkedResult(await it.next());
    if (r.done) return { items, exhausted: true };
    items.push(r.value);
  }
  return { items, exhausted: false };
}

/** Feeds chunks of an input to a job; see the module comment. */
export class ChunkFeeder {
  #inFlight = 0;
  #bytes = 0;
  #submittedBytes = 0;
  #index = 0;
  #pulling = false;
  #ended = false;
  #stopped = false;
  #unbounded = false;
  #prefix: unknown[];
  #prefixAt = 0;
  #exhausted: boolean;

  constructor(
    private readonly input: { it: AnyIterator; async: boolean },
    private readonly chunksize: number,
    private readonly star: boolean,
    private readonly run: RunChunk,
    private readonly sink: FeederSink,
    private readonly limits: FeedLimits,
    prefix: { items: unknown[]; exhausted: boolean } = { items: [], exhausted: false },
  ) {
    this.#prefix = prefix.items;
    this.#exhausted = prefix.exhausted;
  }

  /** Whether the input has ended (all chunks are known). */
  get ended(): boolean {
    return this.#ended;
  }

  /** A chunk no longer counts as in flight (the job got or consumed it). */
  release(bytes: number): void {
    this.#inFlight--;
    this.#bytes -= bytes;
    this.pump();
  }

  /** Stops pulling from the input (the consumer went away) and closes it. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (!this.#ended) {
      try {
        const r = this.input.it.return?.();
        if (r && typeof (r as Promise<unknown>).then === "function") (r as Promise<unknown>).then(undefined, () => {});
      } catch {
        // closing the input is best effort
      }
      this.#end();
    }
  }

  /** Drops the in-flight bound (after `close()`, so that `join()` cannot wait on a consumer). */
  unbound(): void {
    this.#unbounded = true;
    this.pump();
  }

  #canSubmit(): boolean {
    if (this.#ended || this.#stopped || this.#unbounded) return !this.#ended && !this.#stopped;
    const l = this.limits;
    return this.#inFlight < l.minChunks || (this.#inFlight < l.maxChunks && this.#bytes < l.maxBytes);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.sink.ended(this.#index);
  }

  #fail(error: unknown): void {
    const index = this.#index++;
    this.#inFlight++;
    this.sink.submitted(index, 0);
    this.#ended = true;
    this.sink.finished(index, { ok: false, error }, 0);
    this.sink.ended(this.#index);
  }

  #submit(items: unknown[]): void {
    const index = this.#index++;
    let tasks: unknown[];
    try {
      // Items go as they are (one argument each): no array per item to build and encode.
      tasks = this.star ? items.map(toArgList) : items;
    } catch (error) {
      this.#inFlight++;
      this.sink.submitted(index, items.length);
      this.sink.finished(index, { ok: false, error }, 0);
      return;
    }
    this.#inFlight++;
    this.sink.submitted(index, items.length);
    let bytes = 0;
    let sync = true;
    let syncOutcome: ChunkOutcome | undefined;
    bytes = this.run(tasks, !this.star, (outcome) => {
      if (sync) syncOutcome = outcome;
      else this.sink.finished(index, outcome, bytes);
    });
    sync = false;
    this.#bytes += bytes;
    this.#submittedBytes += bytes;
    if (syncOutcome) this.sink.finished(index, syncOutcome, bytes);
  }

  /**
   * Submits chunks while the bounds allow. A sync input is encoded in
   * bursts of at most {@link SYNC_BURST_BYTES}, then the rest on later
   * event-loop turns: `mapAsync` of large payloads returns at once, and
   * results and worker messages are handled in between.
   */
  pump(): void {
    if (this.#pulling || !this.#canSubmit()) return;
    this.#pulling = true;
    if (!this.input.async) {
      let resumeLater = false;
      try {
        const start = this.#submittedBytes;
        while (this.#canSubmit()) {
          if (this.#submittedBytes - start >= SYNC_BURST_BYTES) {
            resumeLater = true;
            setImmediate(() => {
              this.#pulling = false;
              this.pump();
            });
            return;
          }
          this.#pullSync();
        }
      } finally {
        if (!resumeLater) this.#pulling = false;
      }
      return;
    }
    this.#pullAsync();
  }

  #pullSync(): void {
    const it = this.input.it as Iterator<unknown>;
    const items: unknown[] = [];
    while (items.length < this.chunksize) {
      if (this.#prefixAt < this.#prefix.length) {
        items.push(this.#prefix[this.#prefixAt++]);
        continue;
      }
      if (this.#exhausted) break;
      let r: IteratorResult<unknown>;
      try {
        r = checkedResult(it.next());
      } catch (error) {
        return this.#fail(error);
      }
      if (r.done) {
        this.#exhausted = true;
        break;
      }
      items.push(r.value);
    }
    if (items.length > 0) this.#submit(items);
    if (this.#exhausted && this.#prefixAt >= this.#prefix.length) this.#end();
  }

  async #pullAsync(): Promise<void> {
    const it = this.input.it as AsyncIterator<unknown>;
    while (this.#canSubmit()) {
      const items: unknown[] = [];
      while (items.length < this.chunksize) {
        if (this.#prefixAt < this.#prefix.length) {
          items.push(this.#prefix[this.#prefixAt++]);
          continue;
        }
        if (this.#exhausted) break;
        let r: IteratorResult<unknown>;
        try {
          r = checkedResult(await it.next());
        } catch (error) {
          this.#pulling = false;
          if (!this.#stopped) this.#fail(error);
          return;
        }
        if (this.#stopped) {
          this.#pulling = false;
          return;
        }
        if (r.done) {
          this.#exhausted = true;
          break;
        }
        items.push(r.value);
      }
      if (items.length > 0) this.#submit(items);
      if (this.#exhausted && this.#prefixAt >= this.#prefix.length) {
        this.#end();
        break;
      }
    }
    this.#pulling = false;
  }
}

/** Bytes of chunks one synchronous burst may encode before yielding to the event loop. */
const SYNC_BURST_BYTES = 1 << 20;

function toArgList(item: unknown): unknown[] {
  if (Array.isArray(item)) return item;
  if (item != null && typeof (item as Iterable<unknown>)[Symbol.iterator] === "function" && typeof item !== "string") {
    return [...(item as Iterable<unknown>)];
  }
  throw new TypeError(`starmap: each item must be an array of arguments, got ${show(item)}`);
}
