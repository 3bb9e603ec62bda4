/**
 * `Queue` and `JoinableQueue`: FIFO queues in Redis that every process
 * holding the handle shares (Python's `multiprocessing.Queue` and
 * `JoinableQueue`).
 *
 * Items go through the codec, so anything a task argument may hold can be
 * put, handles included (a `Lock` put on a queue arrives usable). Blocking
 * happens in Redis: a `get` waits in `BLPOP` on the item list, a `put` on a
 * full bounded queue waits in `BLPOP` on a list of wake-up tokens that every
 * `get` pushes to; nothing sleeps in a loop.
 *
 * @module
 */
import { decode, encode } from "../task/codec.ts";
import { QueueEmptyError, QueueFullError, StateError } from "../errors.ts";
import { type HandleRecord, registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { QUEUE_FREED, QUEUE_GET, QUEUE_JOIN, QUEUE_PUT, QUEUE_TASK_DONE } from "./lua/queue.ts";
import { isConnectionDrop } from "./redis.ts";
import { checkBoolean, checkInteger, checkOptions, checkTimeout, show } from "../validate.ts";

/** Options of {@link Queue.put} and {@link Queue.get}. */
export interface QueueWaitOptions {
  /** Wait for room (put) or an item (get); default `true`. With `false` the timeout is ignored. */
  block?: boolean;
  /** The most ms to wait; `undefined` waits forever. */
  timeout?: number;
}

/**
 * Validates `{ block, timeout }` and turns it into a deadline
 * (`undefined` = forever; `null` = do not wait).
 * @internal
 */
export function waitDeadline(options: QueueWaitOptions | undefined, what: string): number | undefined | null {
  const o = checkOptions<QueueWaitOptions>(`${what} options`, options, ["block", "timeout"]);
  const block = checkBoolean(`${what} block`, o.block ?? true);
  if (typeof o.timeout === "number" && o.timeout < 0) {
    throw new RangeError(`${what} timeout must not be negative, got ${show(o.timeout)}`);
  }
  const timeout = checkTimeout(`${what} timeout`, o.timeout);
  if (!block) return null;
  return timeout === undefined ? undefined : performance.now() + timeout;
}

// Blocking waits whose connection drops (Redis restarted, the network
// blinked) simply wait again: the next attempt opens a new connection,
// which waits a bounded time for Redis to come back and fails clearly if
// it does not.
export { isConnectionDrop };

const BINARY = { binary: true } as const;

/** How many consecutive connection drops a blocking wait rides out before giving up. @internal */
export const MAX_DROPS = 5;

/** ms left until `deadline` (`undefined` = forever). */
function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : deadline - performance.now();
}

/**
 * A FIFO queue shared through Redis, optionally bounded.
 *
 * `maxsize <= 0` (the default) means unbounded, as in Python. `close()`
 * only closes this handle: other handles of the same queue (in this or
 * other processes) keep working, and items stay in Redis until taken or
 * expired (`redisExpiryTime` after the last put or get).
 *
 * @example
 * ```ts
 * import { Queue } from "./mod.ts";
 * const q = new Queue(2);
 * await q.put("a");
 * q.putNowait({ b: [1, 2] });
 * console.assert(await q.full());
 * console.assert(await q.get() === "a");
 * console.assert((await q.getNowait() as { b: number[] }).b[1] === 2);
 * q.close();
 * ```
 */
export class Queue<T = unknown> extends StateHandle {
  /** The bound (0 = unbounded). */
  readonly maxsize: number;
  /** Whether the queue counts unfinished tasks (JoinableQueue). */
  protected readonly joinable: boolean;
  #closed = false;
  #readerClosed = false;
  #used = false;
  #putKeys?: string[];
  #getKeys?: string[];

  /**
   * @param maxsize the most items the queue holds; `0` or less means no limit.
   * @throws {TypeError|RangeError} for a `maxsize` that is not an integer.
   */
  constructor(maxsize = 0) {
    super("queue");
    checkInteger(`${new.target.name} maxsize`, maxsize);
    this.maxsize = Math.max(0, maxsize);
    this.joinable = new.target === JoinableQueue;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StateError(`Queue ${this.id} is closed`);
  }

  /** The keys a script needs. */
  protected keysOf(...subs: string[]): string[] {
    return subs.map((s) => this.key(s));
  }

  /**
   * Puts an item. On a full bounded queue it waits for room (in Redis);
   * with `block: false` or after `timeout` ms it throws instead.
   *
   * The item is encoded before anything else, so a value that cannot be
   * serialized throws and takes no slot.
   *
   * @throws {QueueFullError} when the queue stays full (at once with `block: false`).
   * @throws {SerializationError} for an item the codec cannot encode.
   * @throws {StateError} after {@link close}.
   * @throws {TypeError|RangeError} for bad options.
   */
  async put(obj: T, options?: QueueWaitOptions): Promise<void> {
    this.#checkOpen();
    const deadline = waitDeadline(options, `${this.constructor.name}.put`);
    const bytes = encode(obj);
    this.#used = true;
    const keys = this.#putKeys ??= this.keysOf("items", "unfinished");
    const args = [this.maxsize, this.joinable ? "1" : "0", bytes];
    if (this.maxsize === 0 && !this.joinable) {
      // Unbounded and not counting tasks: nothing to check, so a native
      // RPUSH pipelined with the list's expiry (one round trip, no script).
      await this.ctx.pushWithExpiry(keys[0], bytes);
      return;
    }
    for (let drops = 0;;) {
      if (await this.ctx.run<number>(QUEUE_PUT, keys, args) === 1) return;
      if (deadline === null) throw new QueueFullError(`Queue ${this.id} is full (maxsize ${this.maxsize})`);
      const left = remaining(deadline);
      if (left !== undefined && left <= 0) {
        throw new QueueFullError(`Queue ${this.id} is still full (maxsize ${this.maxsize}) after the timeout`);
      }
      // A token means a get freed a slot since our attempt (or an older one
      // did): retry. The length of the item list decides, not the token.
      try {
        await this.ctx.blpop([this.key("notfull")], left);
        drops = 0;
      } catch (err) {
        if (!isConnectionDrop(err) || ++drops > MAX_DROPS) throw err;
      }
    }
  }

  /**
   * Takes the oldest item, waiting for one (in Redis) if the queue is
   * empty; with `block: false` or after `timeout` ms it throws instead.
   *
   * @throws {QueueEmptyError} when nothing arrives (at once with `block: false`).
   * @throws {StateError} after {@link close}.
   * @throws {SerializationError} if the item cannot be decoded.
   * @throws {TypeError|RangeError} for bad options.
   */
  async get(options?: QueueWaitOptions): Promise<T> {
    this.#checkOpen();
    const deadline = waitDeadline(options, `${this.constructor.name}.get`);
    const ctx = this.ctx;
    const keys = this.#getKeys ??= this.keysOf("items", "notfull");
    // An unbounded queue's get only removes: a native LPOP does, unless the
    // keys' expiry is due for its (lazy) refresh, which the script does.
    const first = this.maxsize === 0 && !ctx.refreshDue(keys)
      ? await ctx.command<Uint8Array | null>(["LPOP", keys[0]], BINARY)
      : await ctx.run<Uint8Array | null>(QUEUE_GET, keys, [this.maxsize], BINARY);
    if (first !== null) return decode(first) as T;
    if (deadline === null) throw new QueueEmptyError(`Queue ${this.id} is empty`);
    for (let drops = 0;;) {
      const left = remaining(deadline);
      if (left !== undefined && left <= 0) throw new QueueEmptyError(`Queue ${this.id} is still empty after the timeout`);
      let got;
      try {
        got = await this.ctx.blpop([keys[0]], left, { binary: true });
      } catch (err) {
        if (!isConnectionDrop(err) || ++drops > MAX_DROPS) throw err;
        continue;
      }
      if (got === null) continue;
      if (this.maxsize > 0) {
        // The item is ours already: losing the wake-up token (Redis gone
        // this very moment) only delays a blocked putter, so never lose
        // the item over it.
        await this.ctx.run(QUEUE_FREED, keys, [this.maxsize]).catch(() => {});
      }
      return decode(got[1] as Uint8Array) as T;
    }
  }

  /**
   * `put(obj, { block: false })`.
   * @throws {QueueFullError} at once when the queue is full; otherwise as {@link put}.
   */
  putNowait(obj: T): Promise<void> {
    return this.put(obj, { block: false });
  }

  /**
   * `get({ block: false })`.
   * @throws {QueueEmptyError} at once when the queue is empty; otherwise as {@link get}.
   */
  getNowait(): Promise<T> {
    return this.get({ block: false });
  }

  /** The number of items in the queue now (other processes may change it at once). */
  async qsize(): Promise<number> {
    return await this.ctx.command<number>(["LLEN", this.key("items")]);
  }

  /**
   * Whether the queue holds no item now.
   * @throws {StateError} if this handle was closed after putting (Python's
   *   closed reader); a handle closed without ever putting still answers.
   */
  async empty(): Promise<boolean> {
    if (this.#readerClosed) throw new StateError(`Queue ${this.id} is closed`);
    return (await this.qsize()) === 0;
  }

  /** Whether a bounded queue holds `maxsize` items now (never for an unbounded one). */
  async full(): Promise<boolean> {
    return this.maxsize > 0 && (await this.qsize()) >= this.maxsize;
  }

  /**
   * Closes this handle: later `put`/`get` through it throw `StateError`.
   * The queue itself, and other handles of it, are not affected. Closing
   * a handle that never put anything leaves `empty()` working (as in
   * Python); closing twice is harmless.
   */
  close(): void {
    this.#closed = true;
    if (this.#used) this.#readerClosed = true;
  }

  /**
   * Waits until everything this handle put has reached Redis. Every `put`
   * already resolves only once its item is in Redis, so this returns at
   * once; it exists for Python parity.
   * @throws {StateError} if the handle is not closed (as Python asserts).
   */
  joinThread(): Promise<void> {
    if (!this.#closed) return Promise.reject(new StateError(`Queue ${this.id} is not closed`));
    return Promise.resolve();
  }

  /**
   * Python parity: there is no feeder thread to abandon (puts are
   * written before they resolve), so this does nothing.
   */
  cancelJoinThread(): void {}

  /** `await using q = new Queue()` closes the handle at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * A {@link Queue} that also counts unfinished tasks: every `put` adds one,
 * `taskDone()` removes one, and `join()` waits (in Redis) until none is
 * left.
 *
 * @example
 * ```ts
 * import { JoinableQueue } from "./mod.ts";
 * const q = new JoinableQueue<number>();
 * await q.put(1);
 * await q.put(2);
 * const done = q.join();
 * for (let i = 0; i < 2; i++) { await q.get(); await q.taskDone(); }
 * await done;
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /**
   * Marks one item taken with `get` as processed.
   * @throws {StateError} "task_done() called too many times" when there is no unfinished item.
   */
  async taskDone(): Promise<void> {
    await this.ctx.run(QUEUE_TASK_DONE, this.keysOf("unfinished", "joiners", "joinwake"));
  }

  /**
   * Waits until every item ever put has been marked done with
   * {@link taskDone} (returns at once if none is unfinished).
   */
  async join(): Promise<void> {
    const keys = this.keysOf("unfinished", "joiners");
    const wake = this.key("joinwake");
    for (let drops = 0; await this.ctx.run<number>(QUEUE_JOIN, keys) !== 1;) {
      try {
        await this.ctx.blpop([wake], undefined);
        drops = 0;
      } catch (err) {
        if (!isConnectionDrop(err) || ++drops > MAX_DROPS) throw err;
      }
    }
  }
}

function queueFromRecord(record: HandleRecord): Queue {
  const maxsize = Number(record.opts.maxsize ?? 0);
  return restoreHandle(record, () => record.opts.joinable === true ? new JoinableQueue(maxsize) : new Queue(maxsize));
}

// Both classes keep their keys under the kind "queue"; JoinableQueue is
// registered too so that a codec matching exact classes finds it.
registerStateHandle("queue", Queue, (q) => ({ maxsize: q.maxsize, joinable: q instanceof JoinableQueue }), queueFromRecord);
registerStateHandle(
  "joinablequeue",
  JoinableQueue,
  (q) => ({ maxsize: q.maxsize, joinable: true }),
  (r) => queueFromRecord({ ...r, opts: { ...r.opts, joinable: true } }) as JoinableQueue,
);
