/**
 * What the fleet's two sides agree on: the Redis keys (a stream per queue,
 * a result list per caller transport, bundles by hash), the fields of a
 * stream entry, the frames pushed to a result list, and the scripts that
 * write keys together with their expiry (so no fleet key ever lives without
 * a TTL, and a result is stored in the same step that acknowledges it).
 *
 * Batches and results are opaque bytes here: sealing and checking them is
 * the remote core's business (`src/remote/envelope.ts`).
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import type { RedisConnection } from "../state/redis_connection.ts";
import { scriptSha } from "../state/redis_script.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

/** The consumer group every fleet worker of a queue belongs to. */
export const FLEET_GROUP = "skypool-workers";

/** Fields of a stream entry: the sealed batch, where to answer, the batch id, the most deliveries. */
export const FIELD = { batch: "b", reply: "r", id: "i", maxDeliveries: "m" } as const;

/**
 * The stream of a queue. Its name carries the hash tag `{fleet:<queue>}`,
 * and so does every result list of the queue: on a Redis Cluster the
 * script that stores a result and acknowledges its entry touches keys of
 * one slot.
 *
 * @example
 * ```ts
 * import { streamKey } from "./src/remote/fleet_protocol.ts";
 * console.assert(streamKey("skypool", "default") === "skypool:{fleet:default}");
 * ```
 * @throws {TypeError} for an empty queue name or one with spaces.
 */
export function streamKey(prefix: string, queue: string): string {
  checkQueueName(queue);
  return `${prefix}:{fleet:${queue}}`;
}

/** The result list of one caller transport on `queue`. */
export function resultKey(prefix: string, queue: string, transportId: string): string {
  return `${streamKey(prefix, queue)}:result:${transportId}`;
}

/** Where a bundle's code is kept, by content hash. */
export function bundleKey(prefix: string, hash: string): string {
  return `${prefix}:fleet:bundle:${hash}`;
}

/**
 * Throws unless `queue` is a usable queue name.
 * @throws {TypeError} for an empty name, or one with spaces or glob characters.
 */
export function checkQueueName(queue: string): void {
  if (typeof queue !== "string" || !/^[^\s*?[\]\\]+$/.test(queue)) {
    throw new TypeError(`a fleet queue name must be a non-empty string without spaces or glob characters (*?[]\\), got ${JSON.stringify(queue)}`);
  }
}

/** Kinds of result frames. */
export const FRAME = {
  /** The worker's answer (a sealed result or a refusal). */
  answer: 0,
  /** The batch was given up after too many deliveries: the payload is the reason (UTF-8). */
  lost: 1,
  /** No batch: wakes the caller's reader (it is closing or idle). */
  wake: 2,
} as const;

/** A decoded result frame. */
export interface ResultFrame {
  kind: number;
  batchId: string;
  payload: Uint8Array;
}

/**
 * One frame of a result list: `[kind u8][id length u8][batch id][payload]`.
 *
 * @example
 * ```ts
 * import { decodeFrame, encodeFrame, FRAME } from "./src/remote/fleet_protocol.ts";
 * const f = decodeFrame(encodeFrame(FRAME.answer, "b1", new Uint8Array([7])))!;
 * console.assert(f.batchId === "b1" && f.payload[0] === 7);
 * ```
 * @throws {RangeError} for a batch id longer than 255 bytes.
 */
export function encodeFrame(kind: number, batchId: string, payload: Uint8Array): Buffer {
  const id = nodeBuffer().from(batchId, "utf8");
  if (id.length > 255) throw new RangeError(`batch id too long (${id.length} bytes; at most 255)`);
  const out = nodeBuffer().allocUnsafe(2 + id.length + payload.length);
  out[0] = kind;
  out[1] = id.length;
  id.copy(out, 2);
  out.set(payload, 2 + id.length);
  return out;
}

/** Reads a frame; `undefined` for bytes too short to be one. */
export function decodeFrame(bytes: Uint8Array): ResultFrame | undefined {
  if (bytes.length < 2 || bytes.length < 2 + bytes[1]) return undefined;
  const b = nodeBuffer().from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { kind: b[0], batchId: b.toString("utf8", 2, 2 + b[1]), payload: b.subarray(2 + b[1]) };
}

/** A Lua script sent by SHA, with its source for the first use. */
export interface FleetScript {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): FleetScript {
  // Hashed when first sent: node:crypto must not load at import (runtime/builtins.ts).
  let sha: string | undefined;
  return {
    source,
    get sha(): string {
      return sha ??= scriptSha(source);
    },
  };
}

/** KEYS: stream. ARGV: ttl s, batch, reply key, batch id, max deliveries. Adds an entry and refreshes the stream's expiry. */
export const ENQUEUE = script(`
local id = redis.call('XADD', KEYS[1], '*', '${FIELD.batch}', ARGV[2], '${FIELD.reply}', ARGV[3], '${FIELD.id}', ARGV[4], '${FIELD.maxDeliveries}', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return id`);

/**
 * KEYS: stream, result list. ARGV: ttl s, group, entry id, frame.
 * Stores the frame, then acknowledges and deletes the entry: in one step,
 * so an entry is never acknowledged without its result stored.
 */
export const ANSWER = script(`
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('XACK', KEYS[1], ARGV[2], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
return 1`);

/** KEYS: stream. ARGV: ttl s, group. Creates the group (and the stream) unless it exists; the stream gets an expiry. */
export const CREATE_GROUP = script(`
local ok = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[2], '0', 'MKSTREAM')
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1`);

/** KEYS: list. ARGV: ttl s, value. Pushes one value and refreshes the list's expiry. */
export const PUSH = script(`
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`);

/**
 * Runs a fleet script (EVALSHA; EVAL when Redis does not have it cached).
 * Not sent again after a dropped connection: adding an entry twice would run a batch twice.
 *
 * @throws {SkypoolError} when Redis is unreachable or replies with an error.
 */
export async function runFleetScript<T>(conn: RedisConnection, s: FleetScript, keys: string[], args: (string | Uint8Array)[]): Promise<T> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await conn.command<T>(["EVALSHA", s.sha, ...tail]);
  } catch (err) {
    if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
    return await conn.command<T>(["EVAL", s.source, ...tail]);
  }
}

/** Field values of a stream entry (`[name, value, name, value…]`), by name. */
export function entryFields(raw: unknown): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!Array.isArray(raw)) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const v = raw[i + 1];
    if (nodeBuffer().isBuffer(v)) out.set(String(raw[i]), v);
    else if (typeof v === "string") out.set(String(raw[i]), nodeBuffer().from(v));
  }
  return out;
}
