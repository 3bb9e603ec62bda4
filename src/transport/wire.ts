/**
 * The byte protocol between a parent and its worker processes.
 *
 * A connection starts with the worker's handshake (see `handshake.ts`),
 * then carries packets both ways. A packet is one batch made by
 * `packFrames`: its 24-byte header declares the batch's total length, so
 * packets need no length prefix of their own and each goes out as one
 * write. Everything queued for one peer in the same tick travels as one
 * packet, so a burst of tiny tasks costs one syscall, not one per task.
 *
 * A message is two frames: a head (a one-byte kind, then fixed fields) and
 * a body (the variable payload, possibly empty). Keeping the payload its own
 * frame means it is copied once, into the packet, and never into a header
 * message first: a 16 MiB task costs one copy on the way out.
 *
 * The parent never blocks on a write and both sides read all the time
 * (writes are queued by the runtime), so large tasks and large results can
 * cross in both directions at once without a deadlock.
 *
 * @module
 */
import { packFrames, unpackFrames } from "../task/frames.ts";
import { SerializationError } from "../errors.ts";

/** Message kinds. Parent → worker below 16, worker → parent from 16. */
export const Kind = {
  /** head `u32 fnIndex`; body UTF-8 JSON of a FunctionRef. */
  DEFINE: 1,
  /** head `u32 taskId`, `u32 fnIndex`; body = encoded argument lists: task i is `fn(...lists[i])`. */
  TASK: 2,
  /** head `u32 fnIndex`; body = encoded initargs. */
  INIT: 3,
  /** Finish what is queued, then exit 0. */
  QUIT: 4,
  /** One-shot `Process` mode: head `u32 fnIndex`; body = encoded args. */
  RUN: 5,
  /** head `u32` task ids: give these back if they have not started. */
  CANCEL: 6,
  /** As TASK, but the body is the encoded items: task i is `fn(items[i])` (`map`, `imap`). */
  TASK_EACH: 7,
  /** head `u32 taskId`, `u8 status`, `f64 elapsed ms`; body = payload. */
  RESULT: 17,
  /** head `u8 status`; body = payload: the initializer failed; the worker exits. */
  INIT_FAILED: 18,
  /** head `u8 status`; body = payload: a `Process` target finished. */
  DONE: 19,
  /** head `u32` task ids that were cancelled before they started. */
  CANCELLED: 20,
  /** The worker has loaded what it needs to run tasks. */
  READY: 21,
} as const;

/** Status byte of RESULT / INIT_FAILED / DONE (the shared vocabulary, see batch_status.ts). */
export { Status } from "./batch_status.ts";

/** One message: its head (kind and fixed fields) and its body (payload). */
export type Msg = readonly [head: Uint8Array, body: Uint8Array];

const utf8 = new TextEncoder();
// Float64 fields go through one scratch buffer (no DataView per message).
// Every platform skypool runs on is little-endian, as the wire format is.
const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);
const utf8d = new TextDecoder();
const EMPTY = new Uint8Array(0);

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 255;
  out[at + 1] = (v >>> 8) & 255;
  out[at + 2] = (v >>> 16) & 255;
  out[at + 3] = (v >>> 24) & 255;
}

function head1(kind: number, u: number): Uint8Array {
  const h = new Uint8Array(5);
  h[0] = kind;
  putU32(h, 1, u);
  return h;
}

export function defineMsg(fnIndex: number, refJson: string): Msg {
  return [head1(Kind.DEFINE, fnIndex), utf8.encode(refJson)];
}

/** A TASK (argument lists) or, with `each`, a TASK_EACH (one argument per task). */
export function taskMsg(taskId: number, fnIndex: number, payload: Uint8Array, each = false): Msg {
  const h = new Uint8Array(9);
  h[0] = each ? Kind.TASK_EACH : Kind.TASK;
  putU32(h, 1, taskId);
  putU32(h, 5, fnIndex);
  return [h, payload];
}

export function initMsg(kind: typeof Kind.INIT | typeof Kind.RUN, fnIndex: number, payload: Uint8Array): Msg {
  return [head1(kind, fnIndex), payload];
}

/** CANCEL or CANCELLED: a kind byte and a list of u32 task ids. */
export function idsMsg(kind: typeof Kind.CANCEL | typeof Kind.CANCELLED, ids: readonly number[]): Msg {
  const h = new Uint8Array(1 + 4 * ids.length);
  h[0] = kind;
  ids.forEach((id, i) => putU32(h, 1 + 4 * i, id));
  return [h, EMPTY];
}

/** The ids of a CANCEL or CANCELLED head. */
export function readIds(head: Uint8Array): number[] {
  const ids: number[] = [];
  for (let at = 1; at + 4 <= head.length; at += 4) ids.push(u32(head, at));
  return ids;
}

export function quitMsg(): Msg {
  return [new Uint8Array([Kind.QUIT]), EMPTY];
}

export function readyMsg(): Msg {
  return [new Uint8Array([Kind.READY]), EMPTY];
}

export function resultMsg(taskId: number, status: number, elapsedMs: number, payload: Uint8Array): Msg {
  const h = new Uint8Array(14);
  h[0] = Kind.RESULT;
  putU32(h, 1, taskId);
  h[5] = status;
  f64Scratch[0] = elapsedMs;
  h.set(f64Bytes, 6);
  return [h, payload];
}

export function statusMsg(kind: typeof Kind.INIT_FAILED | typeof Kind.DONE, status: number, payload: Uint8Array): Msg {
  return [new Uint8Array([kind, status]), payload];
}

/** Reads fixed fields of a head. */
export function u32(msg: Uint8Array, at: number): number {
  return (msg[at] | (msg[at + 1] << 8) | (msg[at + 2] << 16)) + msg[at + 3] * 0x1000000;
}

export function f64(msg: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) f64Bytes[i] = msg[at + i];
  return f64Scratch[0];
}

export function text(bytes: Uint8Array, at = 0): string {
  return utf8d.decode(at === 0 ? bytes : bytes.subarray(at));
}

export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}

/**
 * Messages as one packet (one write). `frames` is the flat list
 * `[head, body, head, body, …]` as an outbox collects it.
 */
export function packet(frames: readonly Uint8Array[]): Uint8Array {
  return packFrames(frames);
}

/** Packs messages (for tests and one-off sends). */
export function packMessages(messages: readonly Msg[]): Uint8Array {
  return packFrames(messages.flat());
}

/** Bytes of a batch header; the total length sits at offset 12. */
const BATCH_HEADER = 24;
/** "SKPB", the batch magic, as packFrames writes it. */
const MAGIC = [0x53, 0x4b, 0x50, 0x42];

/**
 * Reassembles packets from stream chunks of any size and hands over the
 * frames of each (`[head, body, …]`, views into the packet). A packet that
 * arrives whole in one chunk is not copied; a larger one is copied once,
 * into a buffer sized from its header as soon as that has arrived.
 *
 * When the stream is not skypool packets (or a packet is corrupted),
 * `onError` gets a `SerializationError` saying why, once, and the reader
 * ignores everything after: the connection is unusable. What `onFrames`
 * throws propagates out of `push`.
 */
export class PacketReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** The packet being filled, once its header said how large it is. */
  #partial: Uint8Array | undefined;
  #filled = 0;
  #failed = false;

  constructor(
    private readonly onFrames: (frames: Uint8Array[]) => void,
    private readonly onError: (error: Error) => void = (error) => {
      throw error;
    },
  ) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#failed) return;
    if (this.#partial) {
      const p = this.#partial;
      const k = Math.min(chunk.length, p.length - this.#filled);
      p.set(k === chunk.length ? chunk : chunk.subarray(0, k), this.#filled);
      this.#filled += k;
      if (this.#filled < p.length) return;
      this.#partial = undefined;
      const frames = this.#unpack(p);
      if (!frames) return;
      this.onFrames(frames);
      if (k === chunk.length) return;
      chunk = chunk.subarray(k);
    }
    if (this.#buffered > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered < BATCH_HEADER) return;
      chunk = this.#join();
    }
    let at = 0;
    while (chunk.length - at >= BATCH_HEADER) {
      const total = totalOf(chunk, at);
      if (total < 0) return this.#fail(new SerializationError(`worker protocol error: expected a packet (a skypool batch), got ${describeStart(chunk, at)}`));
      if (chunk.length - at >= total) {
        const frames = this.#unpack(chunk.subarray(at, at + total));
        if (!frames) return;
        this.onFrames(frames);
        at += total;
        continue;
      }
      // Size the packet up front and fill it as the rest arrives.
      const p = new Uint8Array(total);
      p.set(chunk.subarray(at));
      this.#partial = p;
      this.#filled = chunk.length - at;
      return;
    }
    if (at < chunk.length) {
      this.#chunks = [chunk.subarray(at)];
      this.#buffered = chunk.length - at;
    }
  }

  #unpack(batch: Uint8Array): Uint8Array[] | undefined {
    try {
      return unpackFrames(batch);
    } catch (err) {
      this.#fail(err as Error);
      return undefined;
    }
  }

  #fail(error: Error): void {
    this.#failed = true;
    this.#chunks = [];
    this.#buffered = 0;
    this.#partial = undefined;
    this.onError(error);
  }

  /** Joins the buffered pieces (less than a header's worth plus one chunk). */
  #join(): Uint8Array {
    const out = new Uint8Array(this.#buffered);
    let off = 0;
    for (const c of this.#chunks) {
      out.set(c, off);
      off += c.length;
    }
    this.#chunks = [];
    this.#buffered = 0;
    return out;
  }
}

/** The declared length of the packet at `at`, or -1 when the bytes there are not a packet. */
function totalOf(bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 4; i++) if (bytes[at + i] !== MAGIC[i]) return -1;
  const total = u32(bytes, at + 12);
  return total < BATCH_HEADER ? -1 : total;
}

function describeStart(bytes: Uint8Array, at: number): string {
  return `bytes ${[...bytes.subarray(at, at + 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`;
}
