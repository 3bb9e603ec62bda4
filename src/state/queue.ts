/**
 * `Queue` and `JoinableQueue`: FIFO queues in Redis that every process
 * holding the handle shares (Python's `multiprocessing.Queue` and
 * `JoinableQueue`).
 *
 * Items go through the codec, so anything a task argument may hold can be
 * put, handles included (a `Lock` put on a queue arrives usable). Blocking
 * happens in Redis: a `get` on an empty queue waits in `BLMOVE` on the item
 * list (rotating the head in place, so the wait itself takes nothing), a
 * `put` on a full bounded queue waits in `BLPOP` on a list of wake-up
 * tokens that every `get` pushes to; nothing sleeps in a loop.
 *
 * Every item moves by one script run (`put`, `get`), and a script run
 * happens once even when the connection drops under it and it is sent
 * again (see `redis_script.ts`): an item is neither duplicated nor lost
 * across a reconnection, as far as the Redis server itself keeps what it
 * acknowledged (a durable server does; an in-memory one loses what it held
 * when it restarts). A call that gives up on Redis (its timeout passed,
 * or Redis stopped answering: a `CommandTimeoutError`) has no effect: what
 * Redis still does for it later is undone (an item got goes back to the
 * head, an item put is taken out).
 *
 * @module
 */
import { decode, encode } from "../task/codec.ts";
import { QueueEmptyError, QueueFullError, StateError, TimeoutError } from "../errors.ts";
import { type HandleRecord, registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { QUEUE_GET, QUEUE_JOIN, QUEUE_PUT, QUEUE_TASK_DONE, QUEUE_UNGET, QUEUE_UNPUT } from "./lua/queue.ts";
import { commandDeadline } from "./lease.ts";
import { isConnectionDrop, type RedisContext } from "./redis.ts";
import { checkBoolean, checkInteger, checkOptions, checkTimeout, show } from "../validate.ts";

/** Options of {@link Queue.put} and {@link Queue.get}. */
export interface QueueWaitOptions {
  /** Wait for room (put) or an item (get); with `false` the timeout is ignored. @default true */
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

/** How many consecutive connection drops a blocking wait rides out before giving up. @internal */
export const MAX_DROPS = 5;

/** ms left until `deadline` (`undefined` = forever). */
function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : deadline - performance.now();
}

/**
 * Takes the oldest item of the list `keys[0]` (`keys[1]`: the wake-up
 * tokens of a bounded queue), waiting for one until `deadline` (`undefined`:
 * forever; `null`: not at all). Resolves to its bytes, or `null` when the
 * deadline passed first. An item that Redis takes for a call that gave up
 * (deadline passed, Redis frozen) goes back to the head of the list.
 * @internal
 */
export async function takeItem(ctx: RedisContext, keys: readonly string[], maxsize: number, deadline: number | undefined | null): Promise<Uint8Array | null> {
  const giveBack = (late: unknown) => {
    if (late !== null && late !== undefined) void ctx.run(QUEUE_UNGET, [keys[0]], [late as Uint8Array]).catch(() => {});
  };
  const take = { binary: true, deadline: commandDeadline(remaining(deadline ?? undefined)), undo: giveBack };
  for (let drops = 0;;) {
    let got: Uint8Array | null;
    try {
      got = await ctx.run<Uint8Array | null>(QUEUE_GET, keys, [maxsize], take);
    } catch (err) {
      if (err instanceof TimeoutError) return null;
      throw err;
    }
    if (got !== null || deadline === null) return got;
    const left = remaining(deadline);
    if (left !== undefined && left <= 0) return null;
    // Wait for an item without taking it (the head is rotated in place);
    // the script above then takes one, or waits again if another getter
    // was first.
    const seconds = left === undefined ? "0" : (Math.max(left, 1) / 1000).toFixed(3);
    try {
      await ctx.blocking(["BLMOVE", keys[0], keys[0], "LEFT", "LEFT", seconds], { deadline });
      drops = 0;
    } catch (err) {
      if (err instanceof TimeoutError) return null;
      if (!isConnectionDrop(err) || ++drops > MAX_DROPS) throw err;
    }
  }
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
   * A new, empty queue.
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
    // A put that Redis applies for a call that gave up on it (timeout
    // passed, Redis frozen) is taken back: the caller was told it failed.
    const takeBack = (late: unknown) => {
      if (late === 1) void this.ctx.run(QUEUE_UNPUT, keys, [this.joinable ? "1" : "0", bytes]).catch(() => {});
    };
    const limits = { deadline: commandDeadline(remaining(deadline ?? undefined)), undo: takeBack };
    for (let drops = 0;;) {
      try {
        if (await this.ctx.run<number>(QUEUE_PUT, keys, args, limits) === 1) return;
      } catch (err) {
        if (err instanceof TimeoutError) throw new QueueFullError(`Queue ${this.id}: no room, or no answer from Redis, within the timeout`);
        throw err;
      }
      if (deadline === null) throw new QueueFullError(`Queue ${this.id} is full (maxsize ${this.maxsize})`);
      const left = remaining(deadline);
      if (left !== undefined && left <= 0) {
        throw new QueueFullError(`Queue ${this.id} is still full (maxsize ${this.maxsize}) after the timeout`);
      }
      // A token means a get freed a slot since our attempt (or an older one
      // did): retry. The length of the item list decides, not the token.
      try {
        await this.ctx.blpop([this.key("notfull")], left, { deadline });
        drops = 0;
      } catch (err) {
        if (err instanceof TimeoutError) throw new QueueFullError(`Queue ${this.id}: no room, or no answer from Redis, within the timeout`);
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
    const keys = this.#getKeys ??= this.keysOf("items", "notfull");
    const got = await takeItem(this.ctx, keys, this.maxsize, deadline);
    if (got !== null) return decode(got) as T;
    if (deadline === null) throw new QueueEmptyError(`Queue ${this.id} is empty`);
    throw new QueueEmptyError(`Queue ${this.id} is still empty after the timeout`);
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
