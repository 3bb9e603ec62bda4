/**
 * The byte protocol between a parent and its worker processes.
 *
 * A stream carries packets: a little-endian `u32` length, then a batch made
 * by `packFrames` holding one or more messages. Everything queued for one
 * peer in the same tick travels as one packet (one write), so a burst of
 * tiny tasks costs one syscall, not one per task. Each message starts with
 * a one-byte kind; fixed fields follow, then a variable payload.
 *
 * The parent never blocks on a write and both sides read all the time
 * (writes are queued by the runtime), so large tasks and large results can
 * cross in both directions at once without a deadlock.
 *
 * @module
 */
import { packFrames, unpackFrames } from "../task/frames.ts";

/** Message kinds. Parent → worker below 16, worker → parent from 16. */
export const Kind = {
  /** `u32 fnIndex`, UTF-8 JSON of a FunctionRef. */
  DEFINE: 1,
  /** `u32 taskId`, `u32 fnIndex`, payload = encoded argument lists. */
  TASK: 2,
  /** `u32 fnIndex`, payload = encoded initargs. */
  INIT: 3,
  /** Finish what is queued, then exit 0. */
  QUIT: 4,
  /** One-shot `Process` mode: `u32 fnIndex`, payload = encoded args. */
  RUN: 5,
  /** `u32` task ids: give these back if they have not started. */
  CANCEL: 6,
  /** `u32 pid`, UTF-8 token of the spawn. */
  HELLO: 16,
  /** `u32 taskId`, `u8 status`, `f64 elapsed ms`, payload. */
  RESULT: 17,
  /** `u8 status`, payload: the initializer failed; the worker exits. */
  INIT_FAILED: 18,
  /** `u8 status`, payload: a `Process` target finished. */
  DONE: 19,
  /** `u32` task ids that were cancelled before they started. */
  CANCELLED: 20,
} as const;

/** Status byte of RESULT / INIT_FAILED / DONE. */
export const Status = { OK: 0, THREW: 1, UNSERIALIZABLE: 2 } as const;

const utf8 = new TextEncoder();
// Float64 fields go through one scratch buffer (no DataView per message).
// Every platform skypool runs on is little-endian, as the wire format is.
const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);
const utf8d = new TextDecoder();

function header(kind: number, size: number, payload: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(size + (payload?.length ?? 0));
  out[0] = kind;
  if (payload) out.set(payload, size);
  return out;
}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 255;
  out[at + 1] = (v >>> 8) & 255;
  out[at + 2] = (v >>> 16) & 255;
  out[at + 3] = (v >>> 24) & 255;
}

export function defineMsg(fnIndex: number, refJson: string): Uint8Array {
  const out = header(Kind.DEFINE, 5, utf8.encode(refJson));
  putU32(out, 1, fnIndex);
  return out;
}

export function taskMsg(taskId: number, fnIndex: number, payload: Uint8Array): Uint8Array {
  const out = header(Kind.TASK, 9, payload);
  putU32(out, 1, taskId);
  putU32(out, 5, fnIndex);
  return out;
}

export function initMsg(kind: typeof Kind.INIT | typeof Kind.RUN, fnIndex: number, payload: Uint8Array): Uint8Array {
  const out = header(kind, 5, payload);
  putU32(out, 1, fnIndex);
  return out;
}

/** CANCEL or CANCELLED: a kind byte and a list of u32 task ids. */
export function idsMsg(kind: typeof Kind.CANCEL | typeof Kind.CANCELLED, ids: readonly number[]): Uint8Array {
  const out = header(kind, 1 + 4 * ids.length, undefined);
  ids.forEach((id, i) => putU32(out, 1 + 4 * i, id));
  return out;
}

/** The ids of a CANCEL or CANCELLED message. */
export function readIds(msg: Uint8Array): number[] {
  const ids: number[] = [];
  for (let at = 1; at + 4 <= msg.length; at += 4) ids.push(u32(msg, at));
  return ids;
}

export function quitMsg(): Uint8Array {
  return new Uint8Array([Kind.QUIT]);
}

export function helloMsg(pid: number, token: string): Uint8Array {
  const out = header(Kind.HELLO, 5, utf8.encode(token));
  putU32(out, 1, pid);
  return out;
}

export function resultMsg(taskId: number, status: number, elapsedMs: number, payload: Uint8Array): Uint8Array {
  const out = header(Kind.RESULT, 14, payload);
  putU32(out, 1, taskId);
  out[5] = status;
  f64Scratch[0] = elapsedMs;
  out.set(f64Bytes, 6);
  return out;
}

export function statusMsg(kind: typeof Kind.INIT_FAILED | typeof Kind.DONE, status: number, payload: Uint8Array): Uint8Array {
  const out = header(kind, 2, payload);
  out[1] = status;
  return out;
}

/** Reads fixed fields of a message. */
export function u32(msg: Uint8Array, at: number): number {
  return (msg[at] | (msg[at + 1] << 8) | (msg[at + 2] << 16)) + msg[at + 3] * 0x1000000;
}

export function f64(msg: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) f64Bytes[i] = msg[at + i];
  return f64Scratch[0];
}

export function text(msg: Uint8Array, at: number): string {
  return utf8d.decode(msg.subarray(at));
}

export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}

/** The two writes of one packet: its length prefix and the framed batch. */
export function packet(messages: readonly Uint8Array[]): [Uint8Array, Uint8Array] {
  const body = packFrames(messages);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, body.length, true);
  return [len, body];
}

/**
 * Reassembles packets from stream chunks of any size and hands over the
 * messages of each. Large packets are copied once, when complete.
 */
export class PacketReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #need = -1;

  constructor(private readonly onMessages: (messages: Uint8Array[]) => void) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 4) return;
        const head = this.#take(4);
        this.#need = u32(head, 0);
      }
      if (this.#buffered < this.#need) return;
      const body = this.#take(this.#need);
      this.#need = -1;
      this.onMessages(unpackFrames(body));
    }
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0];
      const k = Math.min(c.length, n - off);
      out.set(k === c.length ? c : c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#buffered -= n;
    return out;
  }
}
