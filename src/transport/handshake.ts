/**
 * The first bytes a local worker sends on its connection: who it is (its
 * pid and the token it was started with). Plain bytes, not a packet, so
 * that a worker can say hello before it has loaded the codec and the
 * WebAssembly core that packets need: the parent learns of it early and
 * its first task is on the way while the worker still loads.
 *
 * Layout: `"SKPH"`, `u32 pid`, `u32 n`, then `n` bytes of UTF-8 token
 * (integers little-endian).
 *
 * This module imports nothing, so the worker entry can load it first.
 *
 * @module
 */

const MAGIC = [0x53, 0x4b, 0x50, 0x48]; // "SKPH"
const FIXED = 12;
/** Tokens are short; anything longer is not a worker of ours. */
const MAX_TOKEN = 256;

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 255;
  out[at + 1] = (v >>> 8) & 255;
  out[at + 2] = (v >>> 16) & 255;
  out[at + 3] = (v >>> 24) & 255;
}

function getU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000;
}

/** The handshake of the worker with process id `pid`, started with `token`. */
export function helloBytes(pid: number, token: string): Uint8Array {
  const t = new TextEncoder().encode(token);
  const out = new Uint8Array(FIXED + t.length);
  out.set(MAGIC, 0);
  putU32(out, 4, pid);
  putU32(out, 8, t.length);
  out.set(t, FIXED);
  return out;
}

/** A parsed handshake and the bytes that followed it in the stream. */
export interface Hello {
  pid: number;
  token: string;
  rest: Uint8Array;
}

/**
 * Reads a handshake from the start of a stream, chunk by chunk. `push`
 * returns `undefined` until the handshake is complete, then the parsed
 * hello; it throws a `TypeError` when the bytes are not a handshake.
 */
export class HelloReader {
  #buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Hello | undefined {
    let b: Uint8Array;
    if (this.#buf.length === 0) b = chunk;
    else {
      b = new Uint8Array(this.#buf.length + chunk.length);
      b.set(this.#buf);
      b.set(chunk, this.#buf.length);
    }
    for (let i = 0; i < Math.min(4, b.length); i++) {
      if (b[i] !== MAGIC[i]) throw new TypeError("not a skypool worker handshake");
    }
    if (b.length >= FIXED) {
      const n = getU32(b, 8);
      if (n > MAX_TOKEN) throw new TypeError("not a skypool worker handshake (token too long)");
      if (b.length >= FIXED + n) {
        this.#buf = new Uint8Array(0);
        return {
          pid: getU32(b, 4),
          token: new TextDecoder().decode(b.subarray(FIXED, FIXED + n)),
          rest: b.subarray(FIXED + n),
        };
      }
    }
    this.#buf = b === chunk ? chunk.slice() : b;
    return undefined;
  }
}
