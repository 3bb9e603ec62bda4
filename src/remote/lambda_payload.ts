/**
 * What fits in one Lambda invoke, and where the rest goes: a synchronous
 * invoke carries at most 6 MB each way as JSON, so a sealed batch or answer
 * travels base64 in the event when it fits, and otherwise through
 * `Storage` as an object whose URL the event (or the batch, for answers)
 * names. The seal covers the stored bytes, so whoever can write to the
 * storage cannot make a worker run code or a caller believe a result.
 *
 * @module
 */
import { SkypoolError } from "../errors.ts";
import { locateObject, storageScheme } from "../storage/storage.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

/** A synchronous invoke carries at most this many bytes each way. */
export const LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024;

/**
 * Encoded task bytes per batch on Lambda: base64 makes them 4/3 larger,
 * and the envelope's header (the function's source, the initializer's
 * arguments, `ENV_VARS`) must fit beside them in the 6 MB.
 */
export const LAMBDA_BATCH_BUDGET = 4 * 1024 * 1024;

/** The JSON around the base64 of an event (`{"batch":""}`) or an answer (`{"result":"","cold":false}`), with room to spare. */
const FRAMING = 64;

/**
 * Whether `n` bytes fit in an invoke's JSON as base64.
 *
 * @example
 * ```ts
 * import { fitsInline, LAMBDA_PAYLOAD_LIMIT } from "./src/remote/lambda_payload.ts";
 * console.assert(fitsInline(1024) && !fitsInline(LAMBDA_PAYLOAD_LIMIT));
 * ```
 */
export function fitsInline(n: number): boolean {
  return 4 * Math.ceil(n / 3) + FRAMING <= LAMBDA_PAYLOAD_LIMIT;
}

/** The storage and key of an object URL a worker may read or write: `file:` and `s3://` only (never a fetch to an arbitrary address). */
function objectAt(url: unknown, what: string): ReturnType<typeof locateObject> {
  const scheme = typeof url === "string" ? storageScheme(url) : undefined;
  if (scheme !== "file" && scheme !== "s3") {
    throw new SkypoolError(`the ${what} must be a file: or s3:// object URL, got ${JSON.stringify(url)}`);
  }
  return locateObject(url as string);
}

/**
 * The bytes of the object at `url` (a `file:` or `s3://` URL).
 *
 * @example
 * ```ts
 * import { readPayload, writePayload } from "./src/remote/lambda_payload.ts";
 * import { Storage } from "./src/storage/storage.ts";
 * const url = new Storage().objectUrl("doc/payload.bin");
 * await writePayload(url, new Uint8Array([1, 2, 3]));
 * console.assert((await readPayload(url)).length === 3);
 * ```
 * @throws {SkypoolError} for another kind of URL; {ObjectNotFoundError} when nothing is there.
 */
export async function readPayload(url: unknown, what = "batch's URL"): Promise<Uint8Array> {
  const { storage, key } = objectAt(url, what);
  return await storage.get(key);
}

/**
 * Stores `bytes` at `url` (a `file:` or `s3://` object URL).
 * @throws {SkypoolError} for another kind of URL; what the storage throws when it cannot write.
 */
export async function writePayload(url: unknown, bytes: Uint8Array, what = "answer's URL"): Promise<void> {
  const { storage, key } = objectAt(url, what);
  await storage.put(key, bytes);
}

/**
 * `bytes` as base64 when the JSON holding them fits in an invoke, else
 * `undefined`.
 *
 * @example
 * ```ts
 * import { inlineBase64 } from "./src/remote/lambda_payload.ts";
 * console.assert(inlineBase64(new Uint8Array([104, 105])) === "aGk=");
 * ```
 */
export function inlineBase64(bytes: Uint8Array): string | undefined {
  return fitsInline(bytes.length) ? nodeBuffer().from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") : undefined;
}
