/**
 * The one place that talks to Redis: connections (one command connection
 * per URL per process, a small pool of dedicated connections for blocking
 * commands, one subscriber connection), the key namespace
 * `{prefix}:{session}:{kind}:{id}[:{sub}]`, key expiry, and Lua scripts.
 *
 * Primitives never build key strings or call EVAL themselves: a primitive
 * family exports {@link Script} values made with {@link defineScript} from
 * `src/state/lua/<family>.ts` and runs them with {@link RedisContext.run}.
 *
 * Every script is wrapped so that, after its body, every key it was given
 * gets its expiry refreshed to `redisExpiryTime` — so no key a script
 * touches is ever left without a TTL. Scripts on hot paths may instead ask
 * for a *lazy* refresh (`touch: "lazy"`, see {@link ScriptDefinition.touch}):
 * the body then gives a TTL to every key it creates, and the client asks
 * for the refresh of the script's KEYS only when this process has not
 * refreshed them for a tenth of `redisExpiryTime`.
 *
 * @module
 */
import { createHash, randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";
import process from "node:process";
import { createClient, RESP_TYPES } from "npm:redis@^5.8.0";
import { config } from "../config.ts";
import { SkypoolError, StateError } from "../errors.ts";
import { sharedEmbeddedServer, currentEmbeddedServer } from "./embedded_server.ts";

// ---------------------------------------------------------------------------
// Scripts

/** What a primitive family declares for one Lua script. */
export interface ScriptDefinition {
  /** A unique name, `family.action` (used in error messages). */
  name: string;
  /**
   * Names of the KEYS the script takes, in order (documentation and a
   * count check). A last name ending in `"..."` means "any number more".
   */
  keys: readonly string[];
  /**
   * The script body. It sees `KEYS` and `ARGV` exactly as passed to
   * {@link RedisContext.run}, plus these helpers:
   * - `TTL` — the expiry in seconds (`redisExpiryTime`);
   * - `now_ms()` — the Redis server clock in milliseconds;
   * - `touch(key)` — refresh one key's expiry (for keys created mid-script
   *   that are not in KEYS, and, in a lazy script, for every key it creates);
   * - `TOUCH` — in a lazy script, whether the KEYS' expiry is refreshed
   *   after the body in this call.
   * Return `redis.error_reply('STATE message')` to make the call reject
   * with a `StateError("message")`.
   */
  lua: string;
  /** Refresh the TTL of every key in KEYS after the body (default `true`). */
  touchKeys?: boolean;
  /**
   * `"always"` (the default): refresh every key in KEYS after the body, in
   * every call. `"lazy"`: refresh them only in calls where this process has
   * not refreshed one of them for `redisExpiryTime / 10`; such a body MUST
   * give a TTL to every key it creates (`touch(key)` when RPUSH/INCR/HSET…
   * report a new key, or SET … PX), so that no key is ever left without
   * one. A lazy refresh sets `redisExpiryTime × 1.1`, so a key still lives
   * at least `redisExpiryTime` after its last use (and at most 10 % longer).
   * Ignored when `touchKeys` is `false`.
   */
  touch?: "always" | "lazy";
}

/** A script ready to run: its definition, wrapped source and SHA1. */
export interface Script extends Readonly<ScriptDefinition> {
  /** Whether the KEYS' expiry is refreshed lazily (see {@link ScriptDefinition.touch}). */
  readonly lazy: boolean;
  /** The full source sent to Redis (prelude + body + expiry refresh). */
  readonly source: string;
  /** SHA1 of {@link source} (for EVALSHA). */
  readonly sha: string;
}

const PRELUDE = `
local TTL = tonumber(ARGV[1])
local __argv = ARGV
local ARGV = {}
for i = 2, #__argv do ARGV[i - 1] = __argv[i] end
local TOUCH = true
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function touch(key)
  redis.call('EXPIRE', key, TTL)
end
`;

const LAZY_PRELUDE = PRELUDE.replace(
  "for i = 2, #__argv do ARGV[i - 1] = __argv[i] end\nlocal TOUCH = true",
  "for i = 3, #__argv do ARGV[i - 2] = __argv[i] end\nlocal TOUCH = __argv[2] == '1'",
);

/**
 * Declares a Lua script. Call it at module level in
 * `src/state/lua/<family>.ts` and pass the result to
 * {@link RedisContext.run}; redis.ts caches nothing per family, so adding
 * scripts needs no change here.
 *
 * @throws {TypeError} for a missing name, keys list or body.
 * @example
 * ```ts
 * import { defineScript } from "./src/state/redis.ts";
 * export const INCR_BY = defineScript({
 *   name: "counter.incrBy",
 *   keys: ["counter"],
 *   lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
 * });
 * console.assert(INCR_BY.sha.length === 40);
 * ```
 */
export function defineScript(def: ScriptDefinition): Script {
  if (typeof def?.name !== "string" || def.name === "") throw new TypeError("defineScript: name must be a non-empty string");
  if (!Array.isArray(def.keys)) throw new TypeError(`defineScript(${def.name}): keys must be an array of names`);
  if (typeof def.lua !== "string" || def.lua.trim() === "") throw new TypeError(`defineScript(${def.name}): lua must be a non-empty string`);
  if (def.touch !== undefined && def.touch !== "always" && def.touch !== "lazy") {
    throw new TypeError(`defineScript(${def.name}): touch must be "always" or "lazy"`);
  }
  const touchKeys = def.touchKeys ?? true;
  const touch = touchKeys ? def.touch ?? "always" : "always";
  const lazy = touchKeys && touch === "lazy";
  // A lazy script's first ARGV is "1" when the KEYS are due for a refresh.
  const prelude = lazy ? LAZY_PRELUDE : PRELUDE;
  const source = `-- skypool script ${def.name}\n${prelude}\nlocal function __body()\n${def.lua}\nend\nlocal __r = __body()\n` +
    (lazy ? `if TOUCH then for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], TTL) end end\n` : touchKeys ? `for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], TTL) end\n` : "") +
    `return __r\n`;
  const sha = createHash("sha1").update(source).digest("hex");
  return Object.freeze({ ...def, touchKeys, touch, lazy, source, sha });
}

function checkKeyCount(script: Script, keys: readonly string[]): void {
  const names = script.keys;
  const variadic = names.length > 0 && names[names.length - 1].endsWith("...");
  const fixed = variadic ? names.length - 1 : names.length;
  if (variadic ? keys.length < fixed : keys.length !== fixed) {
    throw new TypeError(`script ${script.name} takes keys [${names.join(", ")}], got ${keys.length}`);
  }
}

// ---------------------------------------------------------------------------
// Connections

/** A value that can be sent as a Redis argument. */
export type RedisArg = string | number | bigint | Uint8Array;

/** A reply as node-redis decodes it (strings, or Buffers in binary mode). */
export type RedisReply = string | number | Buffer | null | RedisReply[];

/** Options of a command. */
export interface CommandOptions {
  /** Return bulk strings as `Buffer`s instead of UTF-8 strings. */
  binary?: boolean;
}

/** How long a command waits for Redis to become reachable before failing. */
export function connectTimeoutMs(): number {
  const raw = Number(process.env.SKYPOOL_REDIS_TIMEOUT_MS);
  return Number.isFinite(raw) && raw > 0 ? raw : 10_000;
}

// The subset of node-redis' client that this module uses (its own generic
// types are large; this keeps type checking fast and the seam visible).
interface RawClient {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand<T>(args: ReadonlyArray<string | Buffer>, options?: unknown): Promise<T>;
  subscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>;
  ref(): void;
  unref(): void;
  destroy(): void;
  close(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

const BINARY = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

/** Hides a password in a URL for error messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@").replace(/([?&]password=)[^&]*/, "$1***");
}

/**
 * Turns a skypool Redis URL into node-redis client options.
 * Accepted: `redis://[user[:pass]@]host[:port][/db]`, `rediss://…` (TLS),
 * and unix sockets as `unix:///path/to.sock[?db=N&password=…&username=…]`
 * (also `redis+unix://` and `redis:///path.sock` style paths ending in `.sock`).
 *
 * @throws {TypeError} for a URL with another scheme.
 * @example
 * ```ts
 * import { clientOptions } from "./src/state/redis.ts";
 * const o = clientOptions("unix:///tmp/r.sock?db=2") as { socket: { path: string }; database: number };
 * console.assert(o.socket.path === "/tmp/r.sock" && o.database === 2);
 * ```
 */
export function clientOptions(url: string): Record<string, unknown> {
  const unix = /^(?:unix|redis\+unix):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^?]+)(?:\?(.*))?$/.exec(url);
  if (unix) {
    const params = new URLSearchParams(unix[4] ?? "");
    const out: Record<string, unknown> = { socket: { path: unix[3] } };
    const username = params.get("username") ?? (unix[1] ? decodeURIComponent(unix[1]) : undefined);
    const password = params.get("password") ?? (unix[2] ? decodeURIComponent(unix[2]) : undefined);
    if (username) out.username = username;
    if (password) out.password = password;
    const db = params.get("db");
    if (db !== null) out.database = Number(db);
    return out;
  }
  if (/^rediss?:\/\//.test(url)) return { url };
  throw new TypeError(`unsupported Redis URL ${JSON.stringify(redactUrl(url))}: use redis://, rediss:// or unix:///path/to/socket`);
}

/**
 * The connections to one Redis server (one per URL per process): a command
 * connection shared by every handle, a pool of dedicated connections for
 * blocking commands, and one subscriber connection.
 *
 * Connections do not keep the program alive while idle (their sockets are
 * unref'd between commands). A connection that drops is discarded and a
 * new one is opened by the next command, waiting at most
 * {@link connectTimeoutMs} for Redis to come back.
 */
export class RedisConnection {
  /** The URL this connection talks to. */
  readonly url: string;
  #options: Record<string, unknown>;
  #command?: RawClient;
  #commandOpening?: Promise<RawClient>;
  #idle: RawClient[] = [];
  #busy = new Set<RawClient>();
  #inFlight = new Map<RawClient, number>();
  #subscriber?: RawClient;
  #subscriberOpening?: Promise<RawClient>;
  #listeners = new Map<string, Set<(message: Buffer) => void>>();
  #closed = false;
  /** How many blocking connections are kept idle for reuse. */
  static maxIdleBlocking = 8;

  constructor(url: string) {
    this.#options = clientOptions(url);
    this.url = url;
  }

  async #open(purpose: string, keepReconnecting = false): Promise<RawClient> {
    if (this.#closed) throw new StateError(`the Redis connection to ${redactUrl(this.url)} was closed`);
    const embedded = currentEmbeddedServer();
    if (embedded !== undefined && embedded.url === this.url) await embedded.ready();
    const timeout = connectTimeoutMs();
    const deadline = Date.now() + timeout;
    let everReady = false;
    let lastError: unknown;
    const socket = {
      ...(this.#options.socket as Record<string, unknown> | undefined),
      connectTimeout: Math.min(timeout, 5000),
      reconnectStrategy: (retries: number, cause: Error): number | false | Error => {
        lastError = cause;
        // After a drop, the connection is discarded and reopened on demand,
        // except the subscriber, which node-redis resubscribes for us.
        if (everReady && (!keepReconnecting || this.#listeners.size === 0)) return false;
        if (!everReady && Date.now() >= deadline) {
          return new SkypoolError(
            `cannot reach Redis at ${redactUrl(this.url)} within ${timeout} ms (${cause?.message ?? cause}). ` +
              "Check that it is running, or set SKYPOOL_REDIS_URL / config.set({ redis: { url } }).",
          );
        }
        return Math.min(25 * 2 ** retries, 500);
      },
    };
    const client = createClient({
      ...this.#options,
      socket,
      disableOfflineQueue: !keepReconnecting,
      name: `skypool-${purpose}`,
      disableClientInfo: true,
    } as Parameters<typeof createClient>[0]) as unknown as RawClient;
    client.on("error", (err) => {
      lastError = err;
    });
    client.on("ready", () => {
      everReady = true;
    });
    try {
      await client.connect();
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
    }
    everReady = true;
    client.unref();
    return client;
  }

  /** The shared command connection, opened (or reopened) on demand. */
  async #commandClient(): Promise<RawClient> {
    const current = this.#command;
    if (current?.isReady) return current;
    if (current) {
      this.#command = undefined;
      this.#discard(current);
    }
    this.#commandOpening ??= this.#open("cmd").then(
      (c) => {
        this.#command = c;
        this.#commandOpening = undefined;
        return c;
      },
      (err) => {
        this.#commandOpening = undefined;
        throw err;
      },
    );
    return this.#commandOpening;
  }

  #discard(client: RawClient): void {
    this.#inFlight.delete(client);
    try {
      client.destroy();
    } catch {
      // already closed
    }
  }

  #send<T>(client: RawClient, args: ReadonlyArray<string | Buffer>, binary: boolean): Promise<T> {
    // Keep the program alive exactly while a command waits for its reply.
    const n = (this.#inFlight.get(client) ?? 0) + 1;
    this.#inFlight.set(client, n);
    if (n === 1) client.ref();
    let reply: Promise<T>;
    try {
      reply = client.sendCommand<T>(args, binary ? BINARY : undefined);
    } catch (err) {
      this.#settled(client);
      return Promise.reject(err);
    }
    return reply.then(
      (value) => {
        this.#settled(client);
        return value;
      },
      (err) => {
        this.#settled(client);
        throw err;
      },
    );
  }

  #settled(client: RawClient): void {
    const left = (this.#inFlight.get(client) ?? 1) - 1;
    if (left <= 0) {
      this.#inFlight.delete(client);
      client.unref();
    } else {
      this.#inFlight.set(client, left);
    }
  }

  /**
   * Sends one command on the shared connection.
   *
   * @throws {SkypoolError} when Redis cannot be reached in time, or wraps
   *   the Redis error reply.
   */
  command<T = RedisReply>(args: readonly RedisArg[], options: CommandOptions = {}): Promise<T> {
    return this.commandArgs<T>(toArgs(args), options.binary ?? false);
  }

  /**
   * {@link command} for arguments already converted to strings/Buffers (the
   * hot path of scripts: no copy, and no extra await when connected).
   * @internal
   */
  commandArgs<T>(args: ReadonlyArray<string | Buffer>, binary: boolean): Promise<T> {
    return this.#onCommandClient((c) => this.#send<T>(c, args, binary));
  }

  /**
   * Runs `send` on the shared command connection. A connection that still
   * looked ready but had died (Redis restarted since its last use) fails
   * with a reset: it is dropped and `send` runs once more on a fresh one,
   * which waits a bounded time for Redis to be back.
   */
  #onCommandClient<T>(send: (client: RawClient) => Promise<T>): Promise<T> {
    const retry = (client: RawClient) => (err: unknown): Promise<T> => {
      if (!isConnectionDrop(err)) throw err;
      if (this.#command === client) {
        this.#command = undefined;
        this.#discard(client);
      }
      return this.#commandClient().then(send);
    };
    const client = this.#command;
    if (client !== undefined && client.isReady) return send(client).catch(retry(client));
    return this.#commandClient().then((c) => send(c).catch(retry(c)));
  }

  /**
   * Sends several commands on the shared connection in one write (a
   * pipeline: one round trip), in order, with nothing interleaved between
   * them. Not atomic: Redis runs them one after the other as they arrive.
   * Resolves to their replies in order; rejects with the first failure.
   * @internal
   */
  pipelineArgs<T extends unknown[]>(commands: ReadonlyArray<ReadonlyArray<string | Buffer>>, binary: boolean): Promise<T> {
    return this.#onCommandClient((client) => Promise.all(commands.map((args) => this.#send(client, args, binary))) as Promise<T>);
  }

  /**
   * Runs `fn` with a dedicated connection (for blocking commands such as
   * BLPOP, BLMOVE, XREAD BLOCK, WAIT); the connection is returned to a
   * small pool afterwards. `send` on it refs the program while it waits.
   */
  async withDedicated<T>(fn: (send: <R = RedisReply>(args: readonly RedisArg[], options?: CommandOptions) => Promise<R>) => Promise<T>): Promise<T> {
    let client: RawClient | undefined;
    while ((client = this.#idle.pop()) !== undefined && !client.isReady) this.#discard(client);
    client ??= await this.#open("block");
    this.#busy.add(client);
    const c = client;
    let ok = false;
    try {
      const result = await fn((args, options = {}) => this.#send(c, toArgs(args), options.binary ?? false));
      ok = true;
      return result;
    } finally {
      this.#busy.delete(c);
      if (ok && c.isReady && !this.#closed && this.#idle.length < RedisConnection.maxIdleBlocking) this.#idle.push(c);
      else this.#discard(c);
    }
  }

  async #subscriberClient(): Promise<RawClient> {
    if (this.#subscriber?.isOpen) return this.#subscriber;
    this.#subscriberOpening ??= this.#open("sub", true).then(
      (c) => {
        this.#subscriber = c;
        this.#subscriberOpening = undefined;
        return c;
      },
      (err) => {
        this.#subscriberOpening = undefined;
        throw err;
      },
    );
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
      (fanOut as unknown as { channel: string }).channel = channel;
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
  #fanOuts = new Map<string, (message: Buffer) => void>();

  /** Closes every connection of this URL (in-flight commands are rejected). */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [this.#command, this.#subscriber, ...this.#idle, ...this.#busy].filter((c): c is RawClient => c !== undefined);
    this.#command = this.#subscriber = undefined;
    this.#idle = [];
    this.#busy.clear();
    for (const c of all) this.#discard(c);
    connections.delete(this.url);
  }
}

function toArg(a: RedisArg): string | Buffer {
  if (typeof a === "string") return a;
  if (typeof a === "number" || typeof a === "bigint") return String(a);
  if (a instanceof Uint8Array) return Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  throw new TypeError(`cannot send ${typeof a} to Redis`);
}

function toArgs(args: readonly RedisArg[]): (string | Buffer)[] {
  return args.map(toArg);
}

/**
 * A lazy script refreshes its keys when this process has not done so for
 * this fraction of `redisExpiryTime`, and sets `redisExpiryTime` times
 * {@link LAZY_SLACK}, so a key lives at least `redisExpiryTime` after its
 * last use (and at most 10 % longer than that).
 */
export const LAZY_REFRESH = 0.1;
/** The TTL factor of lazily refreshed keys (see {@link LAZY_REFRESH}). */
export const LAZY_SLACK = 1 + LAZY_REFRESH;

const connections = new Map<string, RedisConnection>();

/**
 * The process-wide connection to `url` (created on first use; connects lazily).
 *
 * @example
 * ```ts
 * import { connectionFor } from "./src/state/redis.ts";
 * console.assert(connectionFor("redis://127.0.0.1:6379") === connectionFor("redis://127.0.0.1:6379"));
 * ```
 */
export function connectionFor(url: string): RedisConnection {
  let c = connections.get(url);
  if (c === undefined) {
    c = new RedisConnection(url);
    connections.set(url, c);
  }
  return c;
}

/** Closes every Redis connection this process opened (tests; shutdown). */
export async function closeAllConnections(): Promise<void> {
  await Promise.all([...connections.values()].map((c) => c.close()));
  contexts.clear();
}

// ---------------------------------------------------------------------------
// Locations and contexts

/** Where a handle's state lives: a Redis URL and a key namespace. */
export interface Location {
  /** The Redis URL (`redis://`, `rediss://`, `unix:///path`). */
  url: string;
  /** The key prefix (`config.get().redis.prefix`, default `"skypool"`). */
  prefix: string;
  /** The program run's session id (one namespace per run). */
  session: string;
}

let session: string | undefined;
let embeddedAllowed = true;

/**
 * This program run's session id: `SKYPOOL_SESSION` if set (workers inherit
 * it), else a random id chosen once per process.
 */
export function sessionId(): string {
  session ??= process.env.SKYPOOL_SESSION || randomUUID().replace(/-/g, "").slice(0, 12);
  return session;
}

/**
 * Forbids (or allows again) starting an embedded redis-server in this
 * process. Worker entry points call `setEmbeddedAllowed(false)`: a worker
 * never starts a server. `SKYPOOL_NO_EMBEDDED=1` in the environment has
 * the same effect.
 */
export function setEmbeddedAllowed(allowed: boolean): void {
  embeddedAllowed = allowed;
}

/**
 * Where new handles live: the configured Redis URL, or — when none is
 * configured — a private embedded `redis-server`, started here
 * synchronously (its URL is known at once; connecting waits until it is
 * ready).
 *
 * @throws {SkypoolError} when no Redis is configured and redis-server is
 *   missing, or this process is a worker (which never starts a server).
 * @example
 * ```ts
 * import { defaultLocation } from "./src/state/redis.ts";
 * const loc = defaultLocation();
 * console.assert(loc.prefix.length > 0 && loc.session.length > 0);
 * ```
 */
export function defaultLocation(): Location {
  const cfg = config.get();
  const url = cfg.redis.url ?? embeddedUrl();
  return { url, prefix: cfg.redis.prefix, session: sessionId() };
}

function embeddedUrl(): string {
  if (!embeddedAllowed || process.env.SKYPOOL_NO_EMBEDDED === "1") {
    throw new SkypoolError(
      "no Redis is configured in this worker process (workers never start their own redis-server); " +
        "pass handles from the parent, or set SKYPOOL_REDIS_URL",
    );
  }
  return sharedEmbeddedServer().url;
}

/**
 * Environment variables a worker process needs so that handles it creates
 * itself share the parent's Redis and namespace (and so it never starts an
 * embedded server). Handles passed to it carry their own location anyway.
 *
 * @example
 * ```ts
 * import { workerEnvironment } from "./src/state/redis.ts";
 * console.assert(workerEnvironment().SKYPOOL_NO_EMBEDDED === "1");
 * ```
 */
export function workerEnvironment(): Record<string, string> {
  const env: Record<string, string> = { SKYPOOL_SESSION: sessionId(), SKYPOOL_NO_EMBEDDED: "1" };
  const url = config.get().redis.url ?? currentEmbeddedServer()?.url;
  if (url !== undefined) env.SKYPOOL_REDIS_URL = url;
  return env;
}

const contexts = new Map<string, RedisContext>();

/**
 * Whether `err` means the connection died under a command (Redis restarted,
 * or the socket was reset), as opposed to an error reply: such a command
 * may be sent again on a new connection.
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
 * The context for a location (cached: handles of the same namespace share
 * one object and one connection per URL).
 *
 * @example
 * ```ts
 * import { contextFor } from "./src/state/redis.ts";
 * const ctx = contextFor({ url: "redis://127.0.0.1:6379", prefix: "skypool", session: "s1" });
 * console.assert(ctx.key("lock", "a1") === "skypool:s1:lock:a1");
 * ```
 */
export function contextFor(location: Location): RedisContext {
  const id = `${location.url}\u0000${location.prefix}\u0000${location.session}`;
  let ctx = contexts.get(id);
  if (ctx === undefined) {
    ctx = new RedisContext(location);
    contexts.set(id, ctx);
  }
  return ctx;
}

/** The context for {@link defaultLocation}. @throws {SkypoolError} as {@link defaultLocation}. */
export function defaultContext(): RedisContext {
  return contextFor(defaultLocation());
}

/**
 * Unique id for a new handle (URL-safe, no `:`).
 *
 * @example
 * ```ts
 * import { newId } from "./src/state/redis.ts";
 * console.assert(newId() !== newId());
 * ```
 */
export function newId(): string {
  return randomUUID().replace(/-/g, "");
}

/**
 * A namespace on one Redis: builds keys, runs scripts, sends commands.
 * This is the whole surface primitives use.
 *
 * @example
 * ```ts
 * import { contextFor, defineScript } from "./src/state/redis.ts";
 * const SET_GET = defineScript({ name: "doc.setGet", keys: ["k"], lua: "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])" });
 * const ctx = contextFor({ url: process.env.SKYPOOL_REDIS_URL || "redis://127.0.0.1:6379", prefix: "doc", session: "x" });
 * console.assert(await ctx.run(SET_GET, [ctx.key("demo", "1")], ["v"]) === "v");
 * ```
 */
export class RedisContext {
  /** Where this context's keys live. */
  readonly location: Location;
  /** The connection to {@link Location.url}. */
  readonly connection: RedisConnection;

  constructor(location: Location) {
    if (/[:\s]/.test(location.session) || location.session === "") {
      throw new TypeError(`session must be a non-empty string without ':' or spaces, got ${JSON.stringify(location.session)}`);
    }
    this.location = Object.freeze({ ...location });
    this.connection = connectionFor(location.url);
  }

  /** `{prefix}:{session}`: every key of this context starts with it. */
  get namespace(): string {
    return `${this.location.prefix}:${this.location.session}`;
  }

  /**
   * Builds a key `{prefix}:{session}:{kind}:{id}[:{sub}]`.
   * @throws {TypeError} for an empty kind or id.
   */
  key(kind: string, id: string, sub?: string): string {
    if (!kind || !id) throw new TypeError("key needs a kind and an id");
    return sub === undefined ? `${this.namespace}:${kind}:${id}` : `${this.namespace}:${kind}:${id}:${sub}`;
  }

  /** A SCAN pattern matching every key of this namespace. */
  get pattern(): string {
    return `${this.namespace}:*`;
  }

  /** Seconds a key lives after its last use (`config.get().redisExpiryTime`). */
  get expirySeconds(): number {
    return (this.#expiry = Math.max(1, Math.ceil(config.get().redisExpiryTime)));
  }

  /** The lease of Lock/Semaphore holders in ms (`config.get().leaseMs`). */
  get leaseMs(): number {
    const cfg = config.get();
    this.#expiry = Math.max(1, Math.ceil(cfg.redisExpiryTime));
    return cfg.leaseMs;
  }

  // The expiry as last read from the config by this context (a config read
  // costs microseconds, which matter on the hot paths).
  #expiry = 0;

  /**
   * Runs a script (EVALSHA; on NOSCRIPT — first use, or after a Redis
   * restart — EVAL, which also caches it). The expiry is prepended to ARGV
   * by this method and hidden from the script body.
   *
   * @throws {TypeError} if the number of keys does not match the script.
   * @throws {StateError} when the script returns `redis.error_reply('STATE …')`.
   * @throws {SkypoolError} when Redis is unreachable or returns another error.
   */
  async run<T = RedisReply>(script: Script, keys: readonly string[], args: readonly RedisArg[] = [], options: CommandOptions = {}): Promise<T> {
    checkKeyCount(script, keys);
    // A script that refreshes no expiry only uses TTL for the keys it
    // creates: the expiry last read (by the same operation's earlier step,
    // e.g. `leaseMs` in an acquire) will do, which saves a config read.
    const expiry = script.touchKeys || this.#expiry === 0 ? this.expirySeconds : this.#expiry;
    const nk = keys.length;
    let touchedAt = -1;
    const argv: (string | Buffer)[] = new Array(3 + nk + (script.lazy ? 2 : 1) + args.length);
    argv[0] = "EVALSHA";
    argv[1] = script.sha;
    argv[2] = String(nk);
    for (let i = 0; i < nk; i++) argv[3 + i] = keys[i];
    let at = 3 + nk;
    if (script.lazy) {
      argv[at++] = String(Math.ceil(expiry * LAZY_SLACK));
      if (this.#touchDue(keys, expiry)) touchedAt = performance.now();
      argv[at++] = touchedAt >= 0 ? "1" : "0";
    } else {
      argv[at++] = String(expiry);
    }
    for (let i = 0; i < args.length; i++) argv[at + i] = toArg(args[i]);
    const binary = options.binary ?? false;
    try {
      let reply: T;
      try {
        reply = await this.connection.commandArgs<T>(argv, binary);
      } catch (err) {
        if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
        argv[0] = "EVAL";
        argv[1] = script.source;
        reply = await this.connection.commandArgs<T>(argv, binary);
      }
      if (touchedAt >= 0) this.#noteTouched(keys, touchedAt);
      return reply;
    } catch (err) {
      const e = translateError(err, script.name);
      // The refresh runs after the body even when it returns a STATE error.
      if (touchedAt >= 0 && e instanceof StateError) this.#noteTouched(keys, touchedAt);
      throw e;
    }
  }

  /**
   * Whether a lazy script run on `keys` now would refresh their expiry. A
   * primitive may send a native read-or-remove command instead of a lazy
   * script when this is `false` (a command that creates a key never
   * qualifies: it would leave the key without a TTL).
   * @internal
   */
  refreshDue(keys: readonly string[]): boolean {
    // The expiry last used by a lazy script will do (it saves a config
    // read on a hot path): a changed one is seen by the next script.
    return this.#touchDue(keys, this.#touchedExpiry || this.expirySeconds);
  }

  /**
   * Appends `value` to the list `key` and sets the list's expiry, both in
   * one write (a pipeline of RPUSH and PEXPIRE: one round trip, native
   * commands, so much cheaper than a script). The list thus gets its TTL
   * in the same write that may create it. Resolves to the list's length.
   *
   * @throws {SkypoolError} when Redis is unreachable or replies with an error.
   */
  async pushWithExpiry(key: string, value: RedisArg): Promise<number> {
    const ms = String(Math.ceil(this.expirySeconds * 1000 * LAZY_SLACK));
    try {
      const [n] = await this.connection.pipelineArgs<[number, number]>([["RPUSH", key, toArg(value)], ["PEXPIRE", key, ms]], false);
      return n;
    } catch (err) {
      throw translateError(err, "RPUSH");
    }
  }

  // When this process last had each key's expiry refreshed by a lazy script
  // (performance.now() before sending, so the estimate errs on the early side).
  #touched = new Map<string, number>();
  #touchedExpiry = 0;

  #touchDue(keys: readonly string[], expiry: number): boolean {
    if (expiry !== this.#touchedExpiry) {
      this.#touched.clear();
      this.#touchedExpiry = expiry;
    }
    const stale = performance.now() - expiry * 1000 * LAZY_REFRESH;
    for (let i = 0; i < keys.length; i++) {
      const t = this.#touched.get(keys[i]);
      if (t === undefined || t < stale) return true;
    }
    return false;
  }

  #noteTouched(keys: readonly string[], at: number): void {
    const touched = this.#touched;
    if (touched.size > 10_000) {
      const stale = performance.now() - this.#touchedExpiry * 1000 * LAZY_REFRESH;
      for (const [k, t] of touched) if (t < stale) touched.delete(k);
    }
    for (let i = 0; i < keys.length; i++) touched.set(keys[i], at);
  }

  /**
   * Sends one command on the shared connection (non-blocking commands only).
   * Commands that create keys must go through a script instead, so that
   * they get a TTL.
   *
   * @throws {SkypoolError} when Redis is unreachable or replies with an error.
   */
  async command<T = RedisReply>(args: readonly RedisArg[], options: CommandOptions = {}): Promise<T> {
    try {
      return await this.connection.commandArgs<T>(toArgs(args), options.binary ?? false);
    } catch (err) {
      throw translateError(err, String(args[0]));
    }
  }

  /**
   * Sends a blocking command (BLPOP, BLMOVE, XREAD BLOCK…) on a dedicated
   * connection, so that it stalls nobody else.
   *
   * @throws {SkypoolError} when Redis is unreachable or replies with an error.
   */
  async blocking<T = RedisReply>(args: readonly RedisArg[], options: CommandOptions = {}): Promise<T> {
    try {
      return await this.connection.withDedicated((send) => send<T>(args, options));
    } catch (err) {
      throw translateError(err, String(args[0]));
    }
  }

  /**
   * `BLPOP keys… timeout` on a dedicated connection, with the timeout in ms.
   * `undefined` waits forever; a timeout ≤ 0 does not block at all (it is
   * never sent as `0`, which Redis reads as "forever").
   *
   * @returns `[key, value]`, or `null` when the timeout passed.
   */
  async blpop(keys: readonly string[], timeoutMs: number | undefined, options: CommandOptions = {}): Promise<[string, string | Buffer] | null> {
    if (timeoutMs !== undefined && !(timeoutMs > 0)) {
      for (const key of keys) {
        const v = await this.command<string | Buffer | null>(["LPOP", key], options);
        if (v !== null) return [key, v];
      }
      return null;
    }
    const seconds = timeoutMs === undefined ? "0" : (Math.max(timeoutMs, 1) / 1000).toFixed(3);
    const reply = await this.blocking<[string | Buffer, string | Buffer] | null>(["BLPOP", ...keys, seconds], options);
    if (reply === null) return null;
    return [String(reply[0]), reply[1]];
  }

  /**
   * Refreshes the expiry of keys (those that exist) to `redisExpiryTime`.
   */
  async touch(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.run(TOUCH, keys, []);
  }

  /**
   * Subscribes to a channel of this namespace (`{namespace}:{channel}`).
   * Resolves once subscribed; the returned function unsubscribes.
   */
  subscribe(channel: string, listener: (message: Buffer) => void): Promise<() => Promise<void>> {
    return this.connection.subscribe(`${this.namespace}:${channel}`, listener);
  }

  /** Publishes to a channel of this namespace; resolves to the number of receivers. */
  publish(channel: string, message: RedisArg): Promise<number> {
    return this.command<number>(["PUBLISH", `${this.namespace}:${channel}`, message]);
  }

  /** Deletes every key of this namespace (tests; `Manager.shutdown`). */
  async deleteAll(): Promise<number> {
    let cursor = "0";
    let n = 0;
    do {
      const [next, keys] = await this.command<[string, string[]]>(["SCAN", cursor, "MATCH", this.pattern, "COUNT", 1000]);
      cursor = next;
      if (keys.length > 0) n += await this.command<number>(["UNLINK", ...keys]);
    } while (cursor !== "0");
    return n;
  }
}

const TOUCH = defineScript({ name: "redis.touch", keys: ["key..."], lua: "return 1" });

/** Maps a Redis/node-redis error to skypool's errors. */
function translateError(err: unknown, what: string): Error {
  if (err instanceof SkypoolError || err instanceof TypeError || err instanceof RangeError) return err;
  const message = String((err as Error)?.message ?? err);
  const state = /^STATE (.*)$/s.exec(message);
  if (state) return new StateError(state[1]);
  return new SkypoolError(`Redis ${what} failed: ${message}`, { cause: err });
}
