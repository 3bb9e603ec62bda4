/**
 * `Pipe()` and `Connection`: message pipes between processes, carried by
 * Redis lists (Python's `multiprocessing.Pipe`).
 *
 * Each direction is one Redis list and each message one element, so
 * message boundaries are kept (empty messages included) and a message of
 * any size up to Redis' 512 MB string limit arrives whole. Waiting happens
 * in Redis: `recv` in `BLPOP`, `poll(timeout)` in a `BLMOVE` of the list
 * onto itself (head to head), which wakes on a message without taking it.
 *
 * End-of-file: `close()` on an end puts an end-of-file marker behind the
 * messages it sent, so the peer's `recv` drains them and then throws
 * `EOFError` (every time). Python counts open copies of an end across
 * processes (file descriptors); a Redis handle cannot, so skypool uses this
 * rule instead: **an end that has been passed to another process (encoded
 * by the codec) leaves end-of-file to its copies** — closing the original
 * afterwards only closes it locally. That makes the usual idiom work:
 * hand `childEnd` to a worker, `childEnd.close()` in the parent, and the
 * parent's `recv` sees `EOFError` only once the worker closes its copy.
 * A copy that is never closed (its process died or forgot) never signals
 * end-of-file; the keys then expire after `redisExpiryTime`.
 *
 * @module
 */
import { decode, encode } from "../task/codec.ts";
import { config } from "../config.ts";
import { EOFError, SkypoolError, StateError } from "../errors.ts";
import { type HandleRecord, registerStateHandle, StateHandle } from "./handle.ts";
import type { Location } from "./redis.ts";
import { isConnectionDrop, MAX_DROPS } from "./queue.ts";
import { checkBoolean, checkInteger, checkTimeout, show } from "../validate.ts";
import { DATA_TAG, EOF_MARK, PIPE_CLOSE, PIPE_EOF_BACK, PIPE_SEND, PIPE_TRY_RECV } from "./lua/pipe.ts";

/** Bytes `sendBytes` accepts: any typed array, `DataView` or `ArrayBuffer`. */
export type BufferLike = ArrayBufferView | ArrayBuffer;

function asBytes(buf: unknown, what: string): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && buf instanceof SharedArrayBuffer)) {
    return new Uint8Array(buf);
  }
  throw new TypeError(`${what} needs a Uint8Array, another typed array, a DataView or an ArrayBuffer, got ${show(buf)}`);
}

function isEof(msg: Uint8Array): boolean {
  return msg.length === 1 && msg[0] === EOF_MARK.charCodeAt(0);
}

/** The payload of a tagged data element, as a fresh Uint8Array (never a view of a pooled Buffer). */
function payload(msg: Uint8Array): Uint8Array {
  return new Uint8Array(msg.subarray(1));
}

/** Seconds for a Redis blocking timeout: never "0" (forever) for a finite wait. */
function blockSeconds(ms: number): string {
  return ms === Infinity ? "0" : (Math.max(ms, 1) / 1000).toFixed(3);
}

/** A `RangeError` from {@link Connection.recvBytesInto} that carries the message it could not fit. */
export interface BufferTooShortError extends RangeError {
  /** The whole message (it was taken from the pipe). */
  data: Uint8Array;
}

type EndSpec =
  | { record: HandleRecord }
  | { first: true; duplex: boolean }
  | { peer: Connection; duplex: boolean };

// Lets Pipe() and the codec pass an end's spec through the constructor
// without making it public.
let incoming: EndSpec | undefined;

function baseRecord(spec: EndSpec): HandleRecord | undefined {
  if ("record" in spec) return spec.record;
  // The second end shares the first's id; its location follows the first's
  // (see Connection.location), so this placeholder location is never used.
  if ("peer" in spec) return { url: "", prefix: "", session: "", id: spec.peer.id, opts: {} };
  return undefined;
}

/**
 * One end of a {@link Pipe}. Get them from `Pipe()`; an end passed to a
 * worker (as a task argument, inside data, or through a `Queue`) arrives
 * there as a working `Connection` on the same Redis.
 *
 * @example
 * ```ts
 * import { Pipe } from "./mod.ts";
 * const [a, b] = Pipe();
 * await a.send({ hello: "world" });
 * console.assert((await b.recv() as { hello: string }).hello === "world");
 * await b.sendBytes(new TextEncoder().encode("raw"));
 * console.assert(new TextDecoder().decode(await a.recvBytes()) === "raw");
 * await a.close();
 * await b.close();
 * ```
 */
export class Connection extends StateHandle {
  /** Which end: 0 (the first returned by `Pipe()`) or 1. */
  readonly end: 0 | 1;
  /** Whether the pipe carries messages both ways. */
  readonly duplex: boolean;
  #peer?: Connection;
  #closed = false;
  #transferred = false;

  /** @internal Ends come from {@link Pipe}. @throws {TypeError} when called directly. */
  constructor() {
    const spec = incoming;
    incoming = undefined;
    if (spec === undefined) throw new TypeError("Connection objects come from Pipe(); do not construct them directly");
    super("pipe", baseRecord(spec));
    if ("record" in spec) {
      this.end = spec.record.opts.end === 1 ? 1 : 0;
      this.duplex = spec.record.opts.duplex !== false;
    } else if ("peer" in spec) {
      this.#peer = spec.peer;
      this.end = 1;
      this.duplex = spec.duplex;
    } else {
      this.end = 0;
      this.duplex = spec.duplex;
    }
  }

  /** @internal Builds an end from its spec (Pipe() and the codec use it). */
  static create(spec: EndSpec): Connection {
    incoming = spec;
    try {
      return new Connection();
    } finally {
      incoming = undefined;
    }
  }

  /** Where this pipe lives (the second end follows the first). */
  override get location(): Location {
    return this.#peer !== undefined ? this.#peer.location : super.location;
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.duplex || this.end === 0;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.duplex || this.end === 1;
  }

  /** Whether {@link close} was called on this handle. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The list this end reads (`c0`/`c1`). */
  #readSub(): string {
    return this.duplex ? `c${this.end}` : "c0";
  }

  /** The list this end writes. */
  #writeSub(): string {
    return this.duplex ? `c${1 - this.end}` : "c0";
  }

  #checkOpen(): void {
    if (this.#closed) throw new StateError("connection is closed");
  }

  #checkReadable(): void {
    this.#checkOpen();
    if (!this.readable) throw new StateError("connection is write-only");
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (!this.writable) throw new StateError("connection is read-only");
  }

  /** @internal Called by the codec when this end is encoded to travel. */
  markTransferred(): void {
    this.#transferred = true;
  }

  /**
   * Sends a value (encoded by the codec; `recv` on the other end decodes it).
   * @throws {SerializationError} for a value the codec cannot encode.
   * @throws {StateError} on a closed or read-only end, or when the other end has closed.
   */
  async send(obj: unknown): Promise<void> {
    this.#checkWritable();
    await this.#sendTagged(encode(obj));
  }

  /**
   * Sends bytes as one message: `size` bytes of `buf` from byte `offset`
   * (default: all of it from `offset`). Typed arrays count in bytes.
   *
   * @throws {TypeError|RangeError} for a `buf` that is not binary data, or an offset/size that is not an integer.
   * @throws {RangeError} "offset is negative", "buffer length < offset", "size is negative", "buffer length < offset + size".
   * @throws {StateError} on a closed or read-only end, or when the other end has closed.
   */
  async sendBytes(buf: BufferLike, offset = 0, size?: number): Promise<void> {
    this.#checkWritable();
    const bytes = asBytes(buf, "Connection.sendBytes");
    const n = bytes.byteLength;
    checkInteger("Connection.sendBytes offset", offset);
    if (offset < 0) throw new RangeError(`offset is negative (${offset})`);
    if (n < offset) throw new RangeError(`buffer length < offset (${n} < ${offset})`);
    if (size === undefined || size === null) {
      size = n - offset;
    } else {
      checkInteger("Connection.sendBytes size", size);
      if (size < 0) throw new RangeError(`size is negative (${size})`);
      if (offset + size > n) throw new RangeError(`buffer length < offset + size (${n} < ${offset} + ${size})`);
    }
    await this.#sendTagged(bytes.subarray(offset, offset + size));
  }

  async #sendTagged(data: Uint8Array): Promise<void> {
    const msg = new Uint8Array(data.byteLength + 1);
    msg[0] = DATA_TAG;
    msg.set(data, 1);
    const sub = this.#writeSub();
    await this.ctx.run(PIPE_SEND, [this.key(sub), this.key(`r${sub.slice(1)}`)], [msg]);
  }

  /**
   * Receives the next value sent with {@link send}, waiting for it.
   * @throws {EOFError} when the other end closed and nothing is left.
   * @throws {StateError} on a closed or write-only end.
   * @throws {SerializationError} if the message is not a value `send` made.
   */
  async recv(): Promise<unknown> {
    return decode(await this.recvBytes());
  }

  /**
   * Receives the next message as bytes, waiting for it.
   *
   * @param maxlength the longest message accepted. A longer one is left
   *   in the pipe (read it with a larger limit) and this throws a
   *   `RangeError` — Python closes the connection instead, losing it.
   * @throws {RangeError} for a message longer than `maxlength`, or a negative `maxlength`.
   * @throws {EOFError} when the other end closed and nothing is left.
   * @throws {StateError} on a closed or write-only end.
   */
  async recvBytes(maxlength?: number): Promise<Uint8Array> {
    this.#checkReadable();
    if (maxlength !== undefined && maxlength !== null) {
      checkInteger("Connection.recvBytes maxlength", maxlength);
      if (maxlength < 0) throw new RangeError(`maxlength is negative (${maxlength})`);
      return await this.#recvLimited(maxlength);
    }
    const channel = this.key(this.#readSub());
    let msg: Uint8Array;
    for (let drops = 0;; ) {
      try {
        msg = (await this.ctx.blpop([channel], undefined, { binary: true }))![1] as Uint8Array;
        break;
      } catch (err) {
        if (!isConnectionDrop(err) || ++drops > MAX_DROPS) throw err;
      }
    }
    if (isEof(msg)) {
      await this.ctx.run(PIPE_EOF_BACK, [channel]);
      throw new EOFError("the other end of the pipe is closed and nothing is left");
    }
    return payload(msg);
  }

  async #recvLimited(maxlength: number): Promise<Uint8Array> {
    const channel = this.key(this.#readSub());
    for (;;) {
      const r = await this.ctx.run<Uint8Array | number[] | null>(PIPE_TRY_RECV, [channel], [maxlength], { binary: true });
      if (r === null) {
        await this.#waitReadable(Infinity);
        continue;
      }
      if (Array.isArray(r)) throw new RangeError(`message of ${r[0]} bytes is longer than maxlength ${maxlength}`);
      if (isEof(r)) throw new EOFError("the other end of the pipe is closed and nothing is left");
      return payload(r);
    }
  }

  /**
   * Receives the next message into `buf` at byte `offset`, waiting for it.
   *
   * @returns the number of bytes written.
   * @throws {RangeError} ({@link BufferTooShortError}, with the message as
   *   `data`) when the message does not fit — it was taken from the pipe;
   *   also for an offset below 0 or past the end of `buf`.
   * @throws {TypeError} for a `buf` that is not a typed array, DataView or ArrayBuffer.
   * @throws {EOFError} when the other end closed and nothing is left.
   * @throws {StateError} on a closed or write-only end.
   */
  async recvBytesInto(buf: BufferLike, offset = 0): Promise<number> {
    this.#checkReadable();
    const target = asBytes(buf, "Connection.recvBytesInto");
    checkInteger("Connection.recvBytesInto offset", offset);
    if (offset < 0) throw new RangeError(`negative offset (${offset})`);
    if (offset > target.byteLength) throw new RangeError(`offset too large (${offset} > ${target.byteLength})`);
    const msg = await this.recvBytes();
    if (msg.byteLength > target.byteLength - offset) {
      const err = new RangeError(
        `buffer too short: the message has ${msg.byteLength} bytes, the buffer has room for ${target.byteLength - offset}`,
      ) as BufferTooShortError;
      err.data = msg;
      throw err;
    }
    target.set(msg, offset);
    return msg.byteLength;
  }

  /**
   * Whether a message (or end-of-file) is waiting, without taking it.
   *
   * @param timeout ms to wait for one: default `0` (answer at once, as
   *   Python's `poll()`); a negative value acts as 0; `null` or `Infinity`
   *   waits forever.
   * @throws {StateError} on a closed or write-only end.
   * @throws {TypeError|RangeError} for a timeout that is not a number, or NaN.
   */
  async poll(timeout: number | null = 0): Promise<boolean> {
    this.#checkReadable();
    const ms = checkTimeout("Connection.poll timeout", timeout);
    return await this.#waitReadable(ms ?? Infinity);
  }

  async #waitReadable(ms: number): Promise<boolean> {
    const channel = this.key(this.#readSub());
    if (await this.ctx.command<number>(["EXISTS", channel]) === 1) return true;
    if (ms <= 0) return false;
    const deadline = performance.now() + ms;
    for (let drops = 0;; ) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      try {
        // Moving the head onto the head of the same list changes nothing,
        // but blocks until there is a head: a wait that consumes nothing.
        const r = await this.ctx.blocking<unknown>(["BLMOVE", channel, channel, "LEFT", "LEFT", blockSeconds(left)], { binary: true });
        return r !== null;
      } catch (err) {
        if (!isConnectionDrop(err) || ++drops > MAX_DROPS) throw err;
      }
    }
  }

  /**
   * Closes this end. Unless the end was passed to another process, the
   * other end then sees end-of-file after the messages already sent, and
   * sending to this end fails. Closing twice is harmless. A `recv` already
   * waiting on this handle is not interrupted (it still gets the next
   * message or end-of-file).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#transferred) return;
    const w = this.writable ? this.#writeSub() : this.#readSub();
    const r = this.readable ? this.#readSub() : this.#writeSub();
    await this.ctx.run(
      PIPE_CLOSE,
      [this.key(w), this.key(`r${w.slice(1)}`), this.key(r), this.key(`r${r.slice(1)}`)],
      [this.writable ? "1" : "0", this.readable ? "1" : "0"],
    );
  }

  /** `await using conn = …` closes the end at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a pipe and returns its two ends.
 *
 * With `duplex = true` (the default) both ends send and receive. With
 * `duplex = false` the first end only receives and the second only sends
 * (Python's `reader, writer = Pipe(False)`).
 *
 * The transport is chosen by `config.get().pipeConnectionType`; only
 * `"redislist"` (the default) is implemented.
 *
 * @example
 * ```ts
 * import { Pipe } from "./mod.ts";
 * const [reader, writer] = Pipe(false);
 * await writer.send([1, 2.25, null]);
 * console.assert(await reader.poll(1000));
 * console.assert(JSON.stringify(await reader.recv()) === "[1,2.25,null]");
 * await writer.close();
 * try { await reader.recv(); } catch (e) { console.assert((e as Error).name === "EOFError"); }
 * ```
 * @throws {TypeError} for a `duplex` that is not a boolean.
 * @throws {SkypoolError} when `pipeConnectionType` is `"redisstream"` (not implemented).
 */
export function Pipe(duplex = true): [Connection, Connection] {
  checkBoolean("Pipe duplex", duplex);
  const type = config.get().pipeConnectionType;
  if (type !== "redislist") {
    throw new SkypoolError(
      `pipeConnectionType ${JSON.stringify(type)} is not implemented; use "redislist" (the default) ` +
        `with config.set({ pipeConnectionType: "redislist" })`,
    );
  }
  const first = Connection.create({ first: true, duplex });
  const second = Connection.create({ peer: first, duplex });
  return [first, second];
}

registerStateHandle(
  "pipe",
  Connection,
  (c) => {
    c.markTransferred();
    return { end: c.end, duplex: c.duplex };
  },
  (record) => Connection.create({ record }),
);
