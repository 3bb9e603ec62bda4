/**
 * The `fleet` channel: sealed batches go into a queue's Redis Stream, where
 * fleet workers (`skypool worker`, `src/remote/fleet_worker.ts`) on any
 * machine take them through a consumer group; each answer comes back on
 * this channel's own result list, read by one blocking pop at a time on a
 * dedicated connection (no polling).
 *
 * A batch may run more than once (a worker lost mid-batch has its entry
 * taken over by another); the first answer for a batch id settles its
 * `send`, and later ones are ignored. Every key written here carries the
 * expiry `redisExpiryTime`, as every skypool key does.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { config } from "../config.ts";
import type { BatchChannel, SendInfo } from "../remote/batch_channel.ts";
import { RemoteTransport } from "../remote/remote_transport.ts";
import { SkypoolError, TimeoutError, WorkerLostError } from "../errors.ts";
import { connectionFor } from "../state/redis.ts";
import { commandTimeoutMs, type RedisConnection } from "../state/redis_connection.ts";
import { checkInteger } from "../validate.ts";
import {
  bundleKey,
  checkQueueName,
  decodeFrame,
  ENQUEUE,
  encodeFrame,
  FRAME,
  PUSH,
  resultKey,
  runFleetScript,
  streamKey,
} from "../remote/fleet_protocol.ts";
import { nodeCrypto } from "../runtime/builtins.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

/** Options of {@link FleetChannel}. */
export interface FleetChannelOptions {
  /**
   * The Redis the workers read from.
   * @default config.get().redis.url (SKYPOOL_REDIS_URL)
   */
  redisUrl?: string;
  /**
   * The queue (stream) to send to.
   * @default config.get().fleet.queue (SKYPOOL_FLEET_QUEUE, "default")
   */
  queue?: string;
  /**
   * How many times a batch is handed to a worker before it fails with `WorkerLostError`.
   * @default config.get().fleet.maxDeliveries (3)
   */
  maxDeliveries?: number;
}

interface Pending {
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
}

/** How long one blocking pop of the result list waits before the reader looks whether it is still needed. */
const POP_SLICE_S = 1;
/** The most answers one pop takes. */
const POP_COUNT = 256;

/**
 * The fleet `BatchChannel`.
 *
 * @example
 * ```ts
 * import { FleetChannel } from "./src/transport/fleet.ts";
 * const channel = new FleetChannel({ redisUrl: "redis://127.0.0.1:6379", queue: "docs" });
 * console.assert(channel.name === "fleet");
 * await channel.close();
 * ```
 */
export class FleetChannel implements BatchChannel {
  /** Always `"fleet"`. */
  readonly name = "fleet";
  /** The Redis URL batches go to. */
  readonly redisUrl: string;
  /** The queue name. */
  readonly queue: string;
  readonly #maxDeliveries: number;
  readonly #conn: RedisConnection;
  readonly #stream: string;
  readonly #results: string;
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  #reading = false;
  #closed = false;
  // Whether a batch was ever sent (else closing has nothing to clean in Redis).
  #used = false;
  #settled?: () => void;
  #drained?: Promise<void>;

  /**
   * @throws {SkypoolError} when no Redis URL is configured (a fleet needs a Redis every machine reaches).
   * @throws {TypeError} / {RangeError} for a bad queue name or maxDeliveries.
   */
  constructor(options: FleetChannelOptions = {}) {
    const cfg = config.get();
    const url = options.redisUrl ?? cfg.redis.url;
    if (url === undefined || url === "") {
      throw new SkypoolError(
        "the fleet transport needs a Redis that the workers reach too: set SKYPOOL_REDIS_URL (or config.set({ redis: { url } })) " +
          "to the URL the workers were started with (skypool worker --redis URL)",
      );
    }
    this.redisUrl = url;
    this.queue = options.queue ?? cfg.fleet.queue;
    checkQueueName(this.queue);
    this.#maxDeliveries = checkInteger("fleet maxDeliveries", options.maxDeliveries ?? cfg.fleet.maxDeliveries, { min: 1 });
    this.#prefix = cfg.redis.prefix;
    this.#conn = connectionFor(url);
    this.#stream = streamKey(this.#prefix, this.queue);
    this.#results = resultKey(this.#prefix, this.queue, nodeCrypto().randomUUID().replace(/-/g, ""));
  }

  /** Nothing to open ahead: the connection opens with the first batch. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Queues one sealed batch and resolves with the first answer for its id.
   *
   * @throws {WorkerLostError} when the batch was given up after too many deliveries, or the channel was terminated.
   * @throws {TimeoutError} when `info.deadline` passes first.
   * @throws {SkypoolError} when the channel is closed, or Redis cannot take the batch.
   */
  send(sealed: Uint8Array, info: SendInfo, signal: AbortSignal): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new SkypoolError("the fleet transport is closed"));
    if (signal.aborted) return Promise.reject(signal.reason);
    const { batchId } = info;
    if (this.#pending.has(batchId)) return Promise.reject(new SkypoolError(`batch ${batchId} is already in flight`));
    return new Promise<Uint8Array>((resolve, reject) => {
      let entryId: string | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Whatever ends the wait, the entry goes if it was not taken yet: a
      // batch nobody waits for must not run.
      const end = (err?: Error, bytes?: Uint8Array) => {
        if (this.#pending.get(batchId) !== pending) return;
        this.#pending.delete(batchId);
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        if (err) {
          if (entryId !== undefined) this.#conn.command(["XDEL", this.#stream, entryId]).catch(() => {});
          reject(err);
        } else resolve(bytes!);
        if (this.#pending.size === 0) this.#settled?.();
      };
      const pending: Pending = { resolve: (b) => end(undefined, b), reject: (e) => end(e) };
      const onAbort = () => end(signal.reason instanceof Error ? signal.reason : new SkypoolError(String(signal.reason)));
      this.#pending.set(batchId, pending);
      signal.addEventListener("abort", onAbort, { once: true });
      if (info.deadline !== undefined) {
        timer = setTimeout(() => end(new TimeoutError(`fleet batch ${batchId} had no answer by its deadline`)), Math.max(0, info.deadline - Date.now()));
      }
      this.#used = true;
      this.#read();
      runFleetScript<string | Buffer>(this.#conn, ENQUEUE, [this.#stream], [
        this.#ttl(),
        sealed,
        this.#results,
        batchId,
        String(this.#maxDeliveries),
      ]).then(
        (id) => {
          entryId = String(id);
          if (this.#pending.get(batchId) !== pending) this.#conn.command(["XDEL", this.#stream, entryId]).catch(() => {});
        },
        (err) => end(err instanceof SkypoolError ? err : new SkypoolError(`cannot queue a fleet batch on ${this.#stream}: ${(err as Error)?.message ?? err}`, { cause: err })),
      );
    });
  }

  /**
   * Stores a bundle's code where workers fetch it by hash (with the usual expiry).
   * @throws {SkypoolError} when Redis cannot take it.
   */
  async storeBundle(hash: string, code: string): Promise<void> {
    await this.#conn.command(["SET", bundleKey(this.#prefix, hash), code, "EX", this.#ttl()]);
  }

  /** Waits for every batch in flight, then stops reading and removes the result list. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#drained ??= this.#pending.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#settled = resolve));
    await this.#drained;
    await this.#finish();
  }

  /** Fails every batch in flight with `WorkerLostError` (their entries are removed unless taken) and stops reading. */
  async terminate(): Promise<void> {
    this.#closed = true;
    for (const p of [...this.#pending.values()]) p.reject(new WorkerLostError("the fleet transport was terminated"));
    await this.#finish();
  }

  async #finish(): Promise<void> {
    if (!this.#used) return;
    // A reader blocked in its pop returns at once on a wake frame.
    if (this.#reading) await runFleetScript(this.#conn, PUSH, [this.#results], [this.#ttl(), encodeFrame(FRAME.wake, "", new Uint8Array())]).catch(() => {});
    await this.#conn.command(["DEL", this.#results]).catch(() => {});
  }

  #ttl(): string {
    return String(Math.max(1, Math.ceil(config.get().redisExpiryTime)));
  }

  // One reader at a time, while batches are in flight: a blocking pop on a
  // dedicated connection, routed to the batch by id. BLMPOP (Redis 7)
  // takes every answer waiting in one round trip; BLPOP one at a time.
  #read(): void {
    if (this.#reading) return;
    this.#reading = true;
    void (async () => {
      let failures = 0;
      while (this.#pending.size > 0) {
        let answers: Buffer[];
        try {
          answers = await this.#conn.withDedicated((send) => this.#pop(send));
          failures = 0;
        } catch (err) {
          // Redis away: the batches stay queued (and their answers are kept),
          // so the reader tries again, and gives up on them only after a while.
          if (++failures >= 10) {
            for (const p of [...this.#pending.values()]) {
              p.reject(new SkypoolError(`lost the connection to Redis while waiting for fleet results: ${(err as Error)?.message ?? err}`, { cause: err }));
            }
            break;
          }
          await new Promise((r) => setTimeout(r, 200 * failures));
          continue;
        }
        for (const bytes of answers) this.#route(bytes);
      }
      this.#reading = false;
    })();
  }

  #blmpop = true;

  async #pop(send: <R>(args: ReadonlyArray<string | Buffer>, binary: boolean, limits?: { stallMs?: number }) => Promise<R>): Promise<Buffer[]> {
    const limits = { stallMs: POP_SLICE_S * 1000 + commandTimeoutMs() };
    if (this.#blmpop) {
      try {
        const reply = await send<[Buffer, Buffer[]] | null>(["BLMPOP", String(POP_SLICE_S), "1", this.#results, "LEFT", "COUNT", String(POP_COUNT)], true, limits);
        return reply === null ? [] : reply[1];
      } catch (err) {
        if (!/unknown command/i.test(String((err as Error)?.message))) throw err;
        this.#blmpop = false;
      }
    }
    const reply = await send<[Buffer, Buffer] | null>(["BLPOP", this.#results, String(POP_SLICE_S)], true, limits);
    return reply === null ? [] : [reply[1]];
  }

  #route(bytes: Buffer): void {
    const frame = decodeFrame(bytes);
    if (frame === undefined || frame.kind === FRAME.wake) return;
    const pending = this.#pending.get(frame.batchId);
    // A second answer (a batch run again after a takeover) finds nobody.
    if (pending === undefined) return;
    if (frame.kind === FRAME.answer) pending.resolve(frame.payload);
    else pending.reject(new WorkerLostError(nodeBuffer().from(frame.payload).toString("utf8")));
  }
}

/**
 * Batches a `fleet` transport keeps in flight when the pool names no
 * `processes`: the workers are elsewhere and their number unknown here, so
 * enough to keep a few machines busy.
 */
const FLEET_IN_FLIGHT = 16;

/**
 * The `fleet` transport: a {@link RemoteTransport} over a {@link FleetChannel}.
 *
 * @param processes batches in flight (default 16).
 * @example
 * ```ts
 * import { fleetTransport } from "./src/transport/fleet.ts";
 * import { config } from "./src/config.ts";
 * config.set({ authkey: "a-doc-key-of-16-chars", redis: { url: "redis://127.0.0.1:6379" } });
 * const t = fleetTransport(4);
 * console.assert(t.name === "fleet" && t.size === 4);
 * config.reset();
 * ```
 * @throws {SkypoolError} when no authkey is configured explicitly, or no Redis URL.
 */
export function fleetTransport(processes?: number, options: FleetChannelOptions = {}): RemoteTransport {
  return new RemoteTransport(new FleetChannel(options), { size: processes ?? FLEET_IN_FLIGHT });
}
