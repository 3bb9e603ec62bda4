/**
 * `SimpleQueue`: an unbounded FIFO queue in Redis with only `put`, `get`,
 * `empty` and `close` (Python's `multiprocessing.SimpleQueue`).
 *
 * @module
 */
import { decode, encode } from "../task/codec.ts";
import { StateError } from "../errors.ts";
import { type HandleRecord, registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { QUEUE_PUT } from "./lua/queue.ts";
import { takeItem } from "./queue.ts";

/**
 * An unbounded FIFO queue shared through Redis. `get` waits (in Redis)
 * for an item. After `close()` every call through this handle, `empty()`
 * included, is a `StateError` (unlike `Queue`, even if it was never used);
 * other handles of the same queue are not affected.
 *
 * @example
 * ```ts
 * import { SimpleQueue } from "./mod.ts";
 * const q = new SimpleQueue<string>();
 * console.assert(await q.empty());
 * await q.put("job");
 * console.assert(await q.get() === "job");
 * q.close();
 * ```
 */
export class SimpleQueue<T = unknown> extends StateHandle {
  #closed = false;

  constructor() {
    super("simplequeue");
  }

  #checkOpen(): void {
    if (this.#closed) throw new StateError(`SimpleQueue ${this.id} is closed`);
  }

  /**
   * Appends an item (encoded by the codec).
   * @throws {SerializationError} for an item the codec cannot encode (nothing is put).
   * @throws {StateError} after {@link close}.
   */
  async put(obj: T): Promise<void> {
    this.#checkOpen();
    const bytes = encode(obj);
    await this.ctx.run(QUEUE_PUT, [this.key("items"), this.key("unfinished")], [0, "0", bytes]);
  }

  /**
   * Takes the oldest item, waiting for one as long as it takes.
   * @throws {StateError} after {@link close}.
   * @throws {SerializationError} if the item cannot be decoded.
   */
  async get(): Promise<T> {
    this.#checkOpen();
    return decode((await takeItem(this.ctx, [this.key("items"), this.key("notfull")], 0, undefined))!) as T;
  }

  /**
   * Whether the queue holds no item now.
   * @throws {StateError} after {@link close}.
   */
  async empty(): Promise<boolean> {
    this.#checkOpen();
    return (await this.ctx.command<number>(["LLEN", this.key("items")])) === 0;
  }

  /** Closes this handle (idempotent); the queue and its other handles are untouched. */
  close(): void {
    this.#closed = true;
  }

  /** `await using q = new SimpleQueue()` closes the handle at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

registerStateHandle("simplequeue", SimpleQueue, () => ({}), (r: HandleRecord) => restoreHandle(r, () => new SimpleQueue()));
