/**
 * The connections to one Redis server (one {@link RedisConnection} per URL
 * per process) and the rules every command lives by:
 *
 * - **A deadline.** A command with no reply after `redis.commandTimeoutMs`
 *   (a blocking command: its own wait plus that) means the server is
 *   frozen or the network is gone: it fails with a {@link CommandTimeoutError},
 *   as does everything else waiting on that connection, which is dropped;
 *   the next command opens a fresh one. A command sent for a call with a
 *   timeout also gives up at that call's deadline (`TimeoutError`), so the
 *   call settles on time; its reply, should it come later, goes to the
 *   caller's `onLate` so that it can undo what the command did.
 * - **Resends only where harmless.** A command whose connection drops under
 *   it (Redis restarted, a reset) may have been applied or not. It is sent
 *   again on a new connection only when it is marked `resend` (reads, and
 *   scripts, which carry an operation id and run once, see
 *   `redis_script.ts`); any other fails with a `StateError` saying so.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { config } from "../config.ts";
import { CommandTimeoutError, SkypoolError, StateError, TimeoutError } from "../errors.ts";
import { currentEmbeddedServer } from "./embedded_server.ts";
import { clientOptions, loadDriver, type RawClient, redactUrl } from "./redis_client.ts";
import { ClusterClient, clusterSeeds } from "./redis_cluster.ts";
import { unrefTimer } from "../runtime/unref_timer.ts";
import { logger } from "../log.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

const log = logger("skypool:redis");

/** A value that can be sent as a Redis argument. */
export type RedisArg = string | number | bigint | Uint8Array;

/** A reply as node-redis decodes it (strings, or Buffers in binary mode). */
export type RedisReply = string | number | Buffer | null | RedisReply[];

/** How long a connection attempt waits for Redis to become reachable (`SKYPOOL_REDIS_TIMEOUT_MS`, default 10 s). */
export function connectTimeoutMs(): number {
  const raw = Number(process.env.SKYPOOL_REDIS_TIMEOUT_MS);
  return Number.isFinite(raw) && raw > 0 ? raw : 10_000;
}

/** How long a command may wait for its reply (`redis.commandTimeoutMs`). */
export function commandTimeoutMs(): number {
  return config.get().redis.commandTimeoutMs;
}


/** How one command is bounded. @internal */
export interface SendLimits {
  /** `performance.now()` time by which the calling operation must settle (it then rejects with `TimeoutError`). */
  deadline?: number;
  /** Receives the reply of a command that arrived after {@link deadline} (so the caller can undo its effect). */
  onLate?: (reply: unknown) => void;
  /** ms without a reply after which the connection counts as stalled (default `redis.commandTimeoutMs`). */
  stallMs?: number;
  /** Whether the command may be sent again after its connection dropped (it is harmless to apply twice). */
  resend?: boolean;
}

interface Pending {
  readonly command: string;
  readonly stallMs: number;
  readonly stallAt: number;
  // Set once the caller's promise is settled (by the reply, the call's
  // deadline or a stall); the entry stays until the reply (or the drop).
  settled: boolean;
  fail(err: Error): void;
}

interface Watch {
  pending: Set<Pending>;
  timer?: ReturnType<typeof setTimeout>;
}

/** How many times a resendable command is sent again after drops. */
const MAX_RESENDS = 3;

/**
 * Whether `err` means the connection died under a command (Redis restarted,
 * or the socket was reset), as opposed to an error reply.
 * @internal
 */
export function isConnectionDrop(err: unknown): boolean {
  for (let e = err as { message?: unknown; cause?: unknown; code?: unknown; constructor?: { name?: string } } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.constructor?.name === "SocketClosedUnexpectedlyError" || /Socket closed unexpectedly/.test(String(e.message))) return true;
    if (e.code === "ECONNRESET" || e.code === "EPIPE" || /\b(ECONNRESET|EPIPE)\b/.test(String(e.message))) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * Whether `err` is an error reply from Redis (the command reached the
 * server, which answered it with an error), as opposed to a failure to get
 * an answer.
 * @internal
 */
export function isErrorReply(err: unknown): boolean {
  for (let p = err instanceof Error ? Object.getPrototypeOf(err) : null; p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
    if (p.constructor?.name === "ErrorReply") return true;
  }
  return false;
}

const neverSent = new WeakSet<Error>();

/**
 * Whether `err` failed a command before any of it was sent (no connection
 * could be opened), so Redis cannot have run it.
 * @internal
 */
export function wasNeverSent(err: unknown): boolean {
  return err instanceof Error && neverSent.has(err);
}

// A restarted server answers LOADING while it reads its data back from
// disk: the command was refused, not run, so it is sent again shortly.
function isLoading(err: unknown): boolean {
  return isErrorReply(err) && String((err as Error).message).startsWith("LOADING");
}

/** How long to wait before sending a command refused with LOADING again. */
const LOADING_RETRY_MS = 50;

/**
 * Rejects with a `TimeoutError` if `promise` has not settled by `deadline`
 * (`performance.now()` time; `undefined` = no limit).
 */
function byDeadline<T>(promise: Promise<T>, deadline: number | undefined, what: string): Promise<T> {
  if (deadline === undefined) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: the call's timeout passed`)), Math.max(0, deadline - performance.now()));
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Converts an argument for the wire. @throws {TypeError} for another type. */
export function toArg(a: RedisArg): string | Buffer {
  if (typeof a === "string") return a;
  if (typeof a === "number" || typeof a === "bigint") return String(a);
  if (a instanceof Uint8Array) return nodeBuffer().isBuffer(a) ? a : nodeBuffer().from(a.buffer, a.byteOffset, a.byteLength);
  throw new TypeError(`cannot send ${typeof a} to Redis`);
}

/** {@link toArg} for every argument. */
export function toArgs(args: readonly RedisArg[]): (string | Buffer)[] {
  return args.map(toArg);
}

/**
 * The connections to one Redis server (one per URL per process): a command
 * connection shared by every handle, a pool of dedicated connections for
 * blocking commands, and one subscriber connection.
 *
 * Connections do not keep the program alive while idle (their sockets are
 * unref'd between commands). A connection that drops or stalls is
 * discarded and a new one is opened by the next command, waiting at most
 * {@link connectTimeoutMs} for Redis to come back.
 */
export class RedisConnection {
  /** The URL this connection talks to. */
  readonly url: string;
  /** Whether {@link url} names a Redis Cluster (`redis+cluster://…`). */
  readonly cluster: boolean;
  #options: Record<string, unknown>;
  #binary: unknown;
  #command?: RawClient;
  #commandOpening?: Promise<RawClient>;
  #idle: RawClient[] = [];
  #busy = new Set<RawClient>();
  #watches = new Map<RawClient, Watch>();
  #subscriber?: RawClient;
  #subscriberOpening?: Promise<RawClient>;
  #listeners = new Map<string, Set<(message: Buffer) => void>>();
  #fanOuts = new Map<string, (message: Buffer) => void>();
  #closed = false;
  /** How many blocking connections are kept idle for reuse. */
  static maxIdleBlocking = 8;

  constructor(url: string) {
    this.#options = clientOptions(url);
    this.url = url;
    this.cluster = this.#options.cluster === true;
    if (this.cluster) clusterSeeds(url); // a malformed one fails here, not on first use
  }

  async #open(purpose: string, keepReconnecting = false): Promise<RawClient> {
    if (this.#closed) throw new StateError(`the Redis connection to ${redactUrl(this.url)} was closed`);
    const embedded = currentEmbeddedServer();
    if (embedded !== undefined && embedded.url === this.url) await embedded.ready();
    const driver = await loadDriver();
    this.#binary = driver.binary;
    const timeout = connectTimeoutMs();
    const deadline = Date.now() + timeout;
    let everReady = false;
    let lastError: unknown;
    const unreachable = (cause: unknown) =>
      new SkypoolError(
        `cannot reach Redis at ${redactUrl(this.url)} within ${timeout} ms (${(cause as Error)?.message ?? cause}). ` +
          "Check that it is running, or set SKYPOOL_REDIS_URL / config.set({ redis: { url } }).",
      );
    const socket = {
      ...(this.#options.socket as Record<string, unknown> | undefined),
      connectTimeout: Math.min(timeout, 5000),
      reconnectStrategy: (retries: number, cause: Error): number | false | Error => {
        lastError = cause;
        if (log.enabled) log("%s %s connection to %s: attempt %d failed or dropped (%s)", everReady ? "lost the" : "opening the", purpose, redactUrl(this.url), retries + 1, cause?.message);
        // After a drop, the connection is discarded and reopened on demand,
        // except the subscriber, which node-redis resubscribes for us.
        if (everReady && (!keepReconnecting || this.#listeners.size === 0)) return false;
        if (!everReady && Date.now() >= deadline) return unreachable(cause);
        return Math.min(25 * 2 ** retries, 500);
      },
    };
    const client = this.cluster
      ? new ClusterClient(driver.createCluster, this.url, { socket, name: `skypool-${purpose}`, disableClientInfo: true }, purpose === "block", timeout)
      : driver.createClient({
        ...this.#options,
        socket,
        disableOfflineQueue: !keepReconnecting,
        name: `skypool-${purpose}`,
        disableClientInfo: true,
      });
    client.on("error", (err) => {
      lastError = err;
    });
    client.on("ready", () => {
      everReady = true;
    });
    // A server that accepts connections but never answers (frozen, or not
    // Redis at all) would hold the handshake forever: bound the whole of it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unreachable(lastError ?? "no answer to the connection handshake")), timeout);
    });
    try {
      await Promise.race([client.connect(), silent]);
    } catch (err) {
      try {
        client.destroy();
      } catch {
        // not open
      }
      if (err instanceof SkypoolError) throw err;
      throw new SkypoolError(`cannot connect to Redis at ${redactUrl(this.url)}: ${(err as Error)?.message ?? err}`, {
        cause: lastError ?? err,
      });
    } finally {
      clearTimeout(timer);
    }
    everReady = true;
    client.unref();
    if (log.enabled) log("connected (%s) to %s", purpose, redactUrl(this.url));
    return client;
  }

  // Opens a shared connection: `keep` stores it, `drop` forgets the attempt.
  #openInto(purpose: string, keepReconnecting: boolean, keep: (c: RawClient) => void, drop: () => void): Promise<RawClient> {
    return this.#open(purpose, keepReconnecting).then(
      (c) => {
        keep(c);
        return c;
      },
      (err) => {
        drop();
        throw err;
      },
    );
  }

  /** The shared command connection, opened (or reopened) on demand. */
  #commandClient(): Promise<RawClient> {
    const current = this.#command;
    // Another command may have reopened it already.
    if (current?.isReady) return Promise.resolve(current);
    if (current) {
      this.#command = undefined;
      this.#discard(current);
    }
    this.#commandOpening ??= this.#openInto("cmd", false, (c) => {
      this.#command = c;
      this.#commandOpening = undefined;
    }, () => (this.#commandOpening = undefined));
    return this.#commandOpening;
  }

  #discard(client: RawClient): void {
    if (this.#command === client) this.#command = undefined;
    this.#busy.delete(client);
    const watch = this.#watches.get(client);
    if (watch?.timer !== undefined) clearTimeout(watch.timer);
    this.#watches.delete(client);
    try {
      client.destroy();
    } catch {
      // already closed
    }
  }

  #send<T>(client: RawClient, args: ReadonlyArray<string | Buffer>, binary: boolean, limits?: SendLimits): Promise<T> {
    let watch = this.#watches.get(client);
    if (watch === undefined) this.#watches.set(client, watch = { pending: new Set() });
    const w = watch;
    return new Promise<T>((resolve, reject) => {
      const stallMs = limits?.stallMs ?? commandTimeoutMs();
      let callTimer: ReturnType<typeof setTimeout> | undefined;
      const entry: Pending = {
        command: String(args[0]),
        stallMs,
        stallAt: performance.now() + stallMs,
        settled: false,
        fail(err) {
          if (entry.settled) return;
          entry.settled = true;
          reject(err);
        },
      };
      const done = () => {
        if (callTimer !== undefined) clearTimeout(callTimer);
        if (w.pending.delete(entry) && w.pending.size === 0) client.unref();
      };
      let reply: Promise<T>;
      try {
        reply = client.sendCommand<T>(args, binary ? this.#binary : undefined);
      } catch (err) {
        reject(err);
        return;
      }
      // Keep the program alive exactly while a command waits for its reply.
      if (w.pending.size === 0) client.ref();
      w.pending.add(entry);
      reply.then(
        (value) => {
          done();
          if (!entry.settled) {
            entry.settled = true;
            resolve(value);
          } else {
            limits?.onLate?.(value);
          }
        },
        (err) => {
          done();
          entry.fail(err);
        },
      );
      const deadline = limits?.deadline;
      if (deadline !== undefined) {
        callTimer = setTimeout(
          () => entry.fail(new TimeoutError(`Redis ${entry.command}: no reply before the call's timeout`)),
          Math.max(0, deadline - performance.now()),
        );
      }
      this.#watch(client, w);
    });
  }

  // One timer per connection, armed for the oldest command's stall time:
  // replies come in order, so if the oldest has none by then, the
  // connection is stalled.
  #watch(client: RawClient, w: Watch): void {
    if (w.timer !== undefined) return;
    const head = w.pending.values().next().value as Pending | undefined;
    if (head === undefined) return;
    w.timer = setTimeout(() => {
      w.timer = undefined;
      const oldest = w.pending.values().next().value as Pending | undefined;
      if (oldest === undefined) return;
      if (performance.now() < oldest.stallAt - 1) return this.#watch(client, w);
      const err = new CommandTimeoutError(oldest.command, oldest.stallMs, redactUrl(this.url));
      for (const entry of w.pending) entry.fail(err);
      w.pending.clear();
      this.#discard(client);
    }, Math.max(0, head.stallAt - performance.now()));
    unrefTimer(w.timer);
  }

  /**
   * Sends one command on the shared connection.
   *
   * @throws {SkypoolError} when Redis cannot be reached in time, or wraps
   *   the Redis error reply.
   * @throws {CommandTimeoutError} when no reply comes within `redis.commandTimeoutMs`.
   * @throws {TimeoutError} when `limits.deadline` passes first.
   */
  command<T = RedisReply>(args: readonly RedisArg[], binary = false, limits?: SendLimits): Promise<T> {
    return this.commandArgs<T>(toArgs(args), binary, limits);
  }

  /**
   * {@link command} for arguments already converted to strings/Buffers (the
   * hot path of scripts: no copy, and no extra await when connected).
   * @internal
   */
  commandArgs<T>(args: ReadonlyArray<string | Buffer>, binary: boolean, limits?: SendLimits): Promise<T> {
    const client = this.#command;
    if (client !== undefined && client.isReady) return this.#sendOn(client, args, binary, limits, 0);
    return this.#reopenAndSend(args, binary, limits, 0);
  }

  #reopenAndSend<T>(args: ReadonlyArray<string | Buffer>, binary: boolean, limits: SendLimits | undefined, attempt: number): Promise<T> {
    return byDeadline(this.#commandClient(), limits?.deadline, `connecting to Redis for ${String(args[0])}`).then(
      (c) => this.#sendOn<T>(c, args, binary, limits, attempt),
      (err) => {
        if (attempt === 0 && err instanceof Error) neverSent.add(err);
        throw err;
      },
    );
  }

  #sendOn<T>(
    client: RawClient,
    args: ReadonlyArray<string | Buffer>,
    binary: boolean,
    limits: SendLimits | undefined,
    attempt: number,
    loadingSince = 0,
  ): Promise<T> {
    return this.#send<T>(client, args, binary, limits).catch((err) => {
      const deadline = limits?.deadline;
      if (isLoading(err)) {
        const since = loadingSince || performance.now();
        if (performance.now() - since > connectTimeoutMs()) throw err;
        const again = new Promise<void>((resolve) => setTimeout(resolve, LOADING_RETRY_MS));
        return byDeadline(again, deadline, `Redis ${String(args[0])} (the server is loading its data)`)
          .then(() => this.#sendOn<T>(client, args, binary, limits, attempt, since));
      }
      if (err instanceof CommandTimeoutError && deadline !== undefined) {
        // The connection stalled within this call's timeout: a command that
        // may run twice goes again on a fresh connection, bounded by the
        // deadline; any other settles as a timeout at the deadline.
        if (limits?.resend && performance.now() < deadline) return this.#reopenAndSend<T>(args, binary, limits, attempt + 1);
        return byDeadline(new Promise<never>(() => {}), deadline, `Redis ${String(args[0])}`);
      }
      if (!isConnectionDrop(err)) throw err;
      if (!client.routesAround) this.#discard(client);
      if (!limits?.resend) {
        throw new StateError(
          `the connection to Redis at ${redactUrl(this.url)} dropped during ${String(args[0])}, which may or may not have been applied ` +
            "(it is not sent again, as applying it twice would not be harmless)",
          { cause: err },
        );
      }
      if (attempt >= MAX_RESENDS) throw err;
      return this.#reopenAndSend<T>(args, binary, limits, attempt + 1);
    });
  }

  /**
   * Runs `fn` with a dedicated connection (for blocking commands such as
   * BLPOP, BLMOVE, XREAD BLOCK, WAIT); the connection is returned to a
   * small pool afterwards. `send` on it refs the program while it waits.
   * `deadline` bounds the wait for a connection.
   * @internal
   */
  async withDedicated<T>(
    fn: (send: <R = RedisReply>(args: ReadonlyArray<string | Buffer>, binary: boolean, limits?: SendLimits) => Promise<R>) => Promise<T>,
    deadline?: number,
  ): Promise<T> {
    let client: RawClient | undefined;
    while ((client = this.#idle.pop()) !== undefined && !client.isReady) this.#discard(client);
    client ??= await byDeadline(this.#open("block"), deadline, "connecting to Redis");
    this.#busy.add(client);
    const c = client;
    let ok = false;
    try {
      const result = await fn((args, binary, limits) => this.#send(c, args, binary, limits));
      ok = true;
      return result;
    } finally {
      this.#busy.delete(c);
      if (ok && c.isReady && !this.#closed && this.#idle.length < RedisConnection.maxIdleBlocking) this.#idle.push(c);
      else this.#discard(c);
    }
  }

  /**
   * Every key matching `pattern`: SCAN over the server, or over each
   * master of a cluster (a SCAN sees one node's keys).
   * @internal
   */
  async scan(pattern: string): Promise<string[]> {
    const client = await this.#commandClient();
    const send: ((args: string[]) => Promise<[string, string[]]>)[] = client instanceof ClusterClient
      ? (await client.masterClients()).map((node) => (args) => node.sendCommand(args))
      : [(args) => this.command(args, false, { resend: true })];
    const found: string[] = [];
    for (const scan of send) {
      let cursor = "0";
      do {
        const [next, keys] = await scan(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"]);
        cursor = next;
        found.push(...keys);
      } while (cursor !== "0");
    }
    return found;
  }

  #subscriberClient(): Promise<RawClient> {
    if (this.#subscriber?.isOpen) return Promise.resolve(this.#subscriber);
    this.#subscriberOpening ??= this.#openInto("sub", true, (c) => {
      this.#subscriber = c;
      this.#subscriberOpening = undefined;
    }, () => (this.#subscriberOpening = undefined));
    return this.#subscriberOpening;
  }

  /**
   * Subscribes `listener` to a channel on the shared subscriber connection
   * (resubscribed automatically after a reconnect). Resolves once the
   * subscription is active; the returned function unsubscribes. While any
   * subscription is active the program stays alive, so always unsubscribe.
   */
  async subscribe(channel: string, listener: (message: Buffer) => void): Promise<() => Promise<void>> {
    const client = await this.#subscriberClient();
    let set = this.#listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(channel, set);
      const fanOut = (message: Buffer) => {
        for (const l of [...(this.#listeners.get(channel) ?? [])]) l(message);
      };
      this.#fanOuts.set(channel, fanOut);
      await client.subscribe(channel, fanOut, true);
    }
    set.add(listener);
    // A live subscription is someone waiting for a message: keep the program alive.
    client.ref();
    return async () => {
      const s = this.#listeners.get(channel);
      if (!s?.delete(listener) || s.size > 0) return;
      this.#listeners.delete(channel);
      const fanOut = this.#fanOuts.get(channel);
      this.#fanOuts.delete(channel);
      if (fanOut && client.isOpen) await client.unsubscribe(channel, fanOut, true).catch(() => {});
      // An idle subscriber must not keep reconnecting (and the program alive).
      if (this.#listeners.size === 0 && this.#subscriber === client) {
        this.#subscriber = undefined;
        this.#discard(client);
      }
    };
  }

  /** Closes every connection of this URL (in-flight commands are rejected). */
  close(): Promise<void> {
    this.#closed = true;
    const all = [this.#command, this.#subscriber, ...this.#idle, ...this.#busy].filter((c): c is RawClient => c !== undefined);
    this.#command = this.#subscriber = undefined;
    this.#idle = [];
    this.#busy.clear();
    for (const c of all) this.#discard(c);
    return Promise.resolve();
  }
}
