/**
 * A fleet worker: takes sealed batches from a queue's Redis Stream as a
 * member of its consumer group, runs up to `concurrency` of them at once,
 * and answers each on the result list its entry names.
 *
 * Delivery is at least once, with these rules:
 * - A result is stored (RPUSH, with an expiry) in the same script that
 *   acknowledges and deletes its entry, so an entry is never acknowledged
 *   without its result.
 * - The entries of a worker that died stay pending in the group; once idle
 *   past `leaseMs`, a live worker takes them over (XAUTOCLAIM) and runs
 *   them again. A worker running a long batch keeps its entries fresh (it
 *   claims them to itself again every third of `leaseMs`), so they are
 *   not taken from it.
 * - An entry delivered more than `maxDeliveries` times is not run again: it
 *   is answered as lost (the caller's batch fails with `WorkerLostError`).
 * - An entry that cannot be routed (no result list, or one outside this
 *   queue's) is dropped with a line on stderr; one whose bytes are not a
 *   valid batch is the handler's to refuse (the default handler answers a
 *   refusal and runs nothing).
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import process from "node:process";
import { config } from "../config.ts";
import { connectionFor } from "../state/redis.ts";
import { commandTimeoutMs } from "../state/redis_connection.ts";
import { checkInteger } from "../validate.ts";
import { requireRemoteAuthkey } from "./envelope.ts";
import { handleBatch } from "./remote_worker.ts";
import {
  ANSWER,
  bundleKey,
  checkQueueName,
  CREATE_GROUP,
  encodeFrame,
  entryFields,
  FIELD,
  FLEET_GROUP,
  FRAME,
  runFleetScript,
  streamKey,
} from "./fleet_protocol.ts";

/** Runs one sealed batch and answers the bytes for the caller; it should never throw. */
export type BatchHandler = (sealed: Uint8Array) => Promise<Uint8Array>;

/** Options of {@link runFleetWorker}. */
export interface FleetWorkerOptions {
  /** The Redis the callers use (`redis://`, `rediss://`, `unix://`). */
  redisUrl: string;
  /**
   * The queue to serve (its stream is `<prefix>:{fleet:<queue>}`).
   * @default config.get().fleet.queue ("default")
   */
  queue?: string;
  /**
   * Batches run at once.
   * @default 1
   */
  concurrency?: number;
  /**
   * How long (ms) an entry of a silent worker stays pending before another worker takes it over.
   * @default config.get().leaseMs
   */
  leaseMs?: number;
  /**
   * Deliveries after which a batch is answered as lost, for entries that do not carry the caller's own limit.
   * @default config.get().fleet.maxDeliveries
   */
  maxDeliveries?: number;
  /** Aborting it drains the worker: no new reads, running batches finish, then the returned promise resolves. */
  signal?: AbortSignal;
  /** Runs a batch (default: the remote worker core's `handleBatch`). */
  handle?: BatchHandler;
  /** This worker's name in the consumer group (default `{hostname}/{pid}/{random}`). */
  consumer?: string;
  /** Called once the worker is a member of the group and about to read. */
  onReady?: () => void;
}

/** The longest a blocking read waits before the loop looks at its signal and reclaim timer. */
const READ_SLICE_MS = 1000;
/** Back-off after a failed read (Redis restarting, unreachable). */
const RETRY_MS = 500;

/**
 * Serves a fleet queue until `signal` aborts, then drains and resolves.
 *
 * @example
 * ```ts
 * import { runFleetWorker } from "./src/remote/fleet_worker.ts";
 * const stop = new AbortController();
 * stop.abort(); // an already-aborted worker resolves without reading
 * await runFleetWorker({ redisUrl: "redis://127.0.0.1:1", signal: stop.signal, handle: async (b) => b });
 * ```
 * @throws {TypeError} for a bad option (a queue name with spaces, a concurrency below 1, …).
 * @throws {SkypoolError} when Redis cannot be reached at start, or (default handler) no authkey is configured.
 */
export async function runFleetWorker(options: FleetWorkerOptions): Promise<void> {
  const cfg = config.get();
  const url = options.redisUrl;
  if (typeof url !== "string" || url === "") throw new TypeError("runFleetWorker: redisUrl must be a Redis URL (e.g. redis://host:6379)");
  const queue = options.queue ?? cfg.fleet.queue;
  checkQueueName(queue);
  const concurrency = checkInteger("runFleetWorker: concurrency", options.concurrency ?? 1, { min: 1 });
  const leaseMs = checkInteger("runFleetWorker: leaseMs", options.leaseMs ?? cfg.leaseMs, { min: 1 });
  const defaultMax = checkInteger("runFleetWorker: maxDeliveries", options.maxDeliveries ?? cfg.fleet.maxDeliveries, { min: 1 });
  const signal = options.signal;
  if (signal?.aborted) return;

  const conn = connectionFor(url);
  const prefix = cfg.redis.prefix;
  const stream = streamKey(prefix, queue);
  const replyPrefix = `${stream}:result:`;
  const consumer = options.consumer ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const workerId = consumer;
  const ttl = () => String(Math.max(1, Math.ceil(config.get().redisExpiryTime)));
  const handle = options.handle ?? defaultHandler(workerId, async (hash) => {
    const code = await conn.command<string | null>(["GET", bundleKey(prefix, hash)]);
    return code ?? undefined;
  });

  const ensureGroup = () => runFleetScript(conn, CREATE_GROUP, [stream], [ttl(), FLEET_GROUP]);
  await ensureGroup();

  const running = new Map<string, Promise<void>>();
  let wake: (() => void) | undefined;
  const wakeLoop = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  signal?.addEventListener("abort", wakeLoop, { once: true });

  // Answers an entry; tried again while Redis is away (the entry stays
  // pending meanwhile, so a worker that gives up loses nothing).
  const answer = async (entryId: string, reply: string, frame: Uint8Array): Promise<void> => {
    for (let attempt = 0;; attempt++) {
      try {
        await runFleetScript(conn, ANSWER, [stream, reply], [ttl(), FLEET_GROUP, entryId, frame]);
        return;
      } catch (err) {
        if (attempt >= 20) {
          console.error(`skypool worker ${workerId}: cannot store the result of entry ${entryId} (it stays pending and will be taken over): ${(err as Error)?.message ?? err}`);
          return;
        }
        await delay(RETRY_MS);
      }
    }
  };

  const drop = (entryId: string, why: string): Promise<void> => {
    console.error(`skypool worker ${workerId}: dropped stream entry ${entryId} of ${stream}: ${why}`);
    return conn.command(["XACK", stream, FLEET_GROUP, entryId]).then(() => conn.command(["XDEL", stream, entryId])).then(() => {}, () => {});
  };

  const runEntry = async (entryId: string, raw: unknown, deliveries: number): Promise<void> => {
    const fields = entryFields(raw);
    const reply = fields.get(FIELD.reply)?.toString();
    const batchId = fields.get(FIELD.id)?.toString();
    const bytes = fields.get(FIELD.batch);
    // A result list elsewhere would let whoever writes to the stream make
    // workers push to any key.
    if (reply === undefined || !reply.startsWith(replyPrefix) || batchId === undefined || utf8(batchId).length > 255) {
      return drop(entryId, "no result list of this queue, or no batch id: nobody to answer");
    }
    if (bytes === undefined) return answer(entryId, reply, encodeFrame(FRAME.lost, batchId, utf8("the stream entry carried no batch")));
    const max = Number(fields.get(FIELD.maxDeliveries)?.toString()) || defaultMax;
    if (deliveries > max) {
      return answer(entryId, reply, encodeFrame(FRAME.lost, batchId, utf8(`batch ${batchId} was taken ${deliveries - 1} times by workers that were lost before answering (at most ${max} deliveries)`)));
    }
    let out: Uint8Array;
    try {
      out = await handle(bytes);
    } catch (err) {
      return answer(entryId, reply, encodeFrame(FRAME.lost, batchId, utf8(`worker ${workerId} failed on the batch: ${(err as Error)?.message ?? err}`)));
    }
    return answer(entryId, reply, encodeFrame(FRAME.answer, batchId, out));
  };

  const start = (entryId: string, raw: unknown, deliveries: number): void => {
    const run = runEntry(entryId, raw, deliveries).finally(() => {
      running.delete(entryId);
      wakeLoop();
    });
    running.set(entryId, run);
  };

  // A worker busy with a long batch claims its entries to itself again
  // (JUSTID: the delivery count stays), so their idle time never reaches the lease.
  const refresh = setInterval(() => {
    if (running.size === 0) return;
    conn.command(["XCLAIM", stream, FLEET_GROUP, consumer, "0", ...running.keys(), "JUSTID"]).catch(() => {});
  }, Math.max(1, Math.floor(leaseMs / 3)));

  let cursor = "0-0";
  const reclaim = async (count: number): Promise<void> => {
    const [next, entries] = await conn.command<[Buffer, [Buffer, unknown][]]>(
      ["XAUTOCLAIM", stream, FLEET_GROUP, consumer, String(leaseMs), cursor, "COUNT", String(count)],
      true,
    );
    cursor = String(next);
    for (const [rawId, fields] of entries) {
      const id = String(rawId);
      if (fields === null || running.has(id)) continue;
      const info = await conn.command<[string, string, number, number][]>(["XPENDING", stream, FLEET_GROUP, id, id, "1"]);
      start(id, fields, info[0]?.[3] ?? 2);
    }
  };

  options.onReady?.();
  let nextReclaim = 0;
  try {
    while (!signal?.aborted) {
      if (running.size >= concurrency) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      try {
        if (performance.now() >= nextReclaim) {
          nextReclaim = performance.now() + Math.max(1, leaseMs / 2);
          await reclaim(concurrency - running.size);
          if (running.size >= concurrency) continue;
        }
        const free = concurrency - running.size;
        const block = Math.max(1, Math.min(READ_SLICE_MS, Math.ceil(nextReclaim - performance.now())));
        const reply = await conn.withDedicated((send) =>
          send<[Buffer, [Buffer, unknown][]][] | null>(
            ["XREADGROUP", "GROUP", FLEET_GROUP, consumer, "COUNT", String(free), "BLOCK", String(block), "STREAMS", stream, ">"],
            true,
            { stallMs: block + commandTimeoutMs() },
          )
        );
        for (const [, entries] of reply ?? []) {
          for (const [rawId, fields] of entries) start(String(rawId), fields, 1);
        }
      } catch (err) {
        // The stream expired or was deleted (its group with it), or Redis is away.
        const message = String((err as Error)?.message ?? err);
        if (!/NOGROUP|no longer exists|UNBLOCKED/.test(message)) {
          console.error(`skypool worker ${workerId}: reading ${stream} failed (trying again): ${message}`);
          await delay(RETRY_MS, signal);
        }
        await ensureGroup().catch(() => {});
      }
    }
    await Promise.all(running.values());
  } finally {
    clearInterval(refresh);
    signal?.removeEventListener("abort", wakeLoop);
  }
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The remote worker core, which needs the authkey the callers seal with. */
function defaultHandler(workerId: string, fetchBundle: (hash: string) => Promise<string | undefined>): BatchHandler {
  requireRemoteAuthkey(`fleet worker ${workerId}`);
  return (sealed) => handleBatch(sealed, { workerId, fetchBundle });
}
