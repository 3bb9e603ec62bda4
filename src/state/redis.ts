/**
 * The one place primitives talk to Redis through: the key namespace
 * `{prefix}:{session}:{kind}:{id}[:{sub}]`, key expiry, Lua scripts and
 * commands, on top of the connections of `redis_connection.ts` (which load
 * node-redis on the first connection, not at import).
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
 * refreshed them for a tenth of `redisExpiryTime`. Every script run also
 * happens once, however often it is sent (see `redis_script.ts`).
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { config } from "../config.ts";
import { CommandTimeoutError, SkypoolError, StateError } from "../errors.ts";
import { currentEmbeddedServer, sharedEmbeddedServer } from "./embedded_server.ts";
import {
  commandTimeoutMs,
  isErrorReply,
  wasNeverSent,
  connectTimeoutMs,
  RedisConnection,
  type RedisArg,
  type RedisReply,
  type SendLimits,
  toArg,
  toArgs,
} from "./redis_connection.ts";
import { checkKeyCount, defineScript, type Script, SCRIPT_HEADER } from "./redis_script.ts";
import { unrefTimer } from "../runtime/unref_timer.ts";
import { nodeCrypto } from "../runtime/builtins.ts";

export { clientOptions, redactUrl } from "./redis_client.ts";
export { commandTimeoutMs, connectTimeoutMs, isConnectionDrop, RedisConnection, type RedisArg, type RedisReply } from "./redis_connection.ts";
export { defineScript, type Script, type ScriptDefinition } from "./redis_script.ts";

/** Options of a command. */
export interface CommandOptions {
  /** Return bulk strings as `Buffer`s instead of UTF-8 strings. */
  binary?: boolean;
  /**
   * `performance.now()` time by which the calling operation must settle
   * (a call with a timeout): the command then rejects with `TimeoutError`
   * even if Redis has not answered.
   */
  deadline?: number;
  /**
   * Undoes a command whose call gave up on it (its {@link deadline} passed,
   * or Redis stopped answering) but which Redis ran after all: receives
   * that run's reply, so that the caller can give back what it took (an
   * item, a lock). For a script this is certain: once Redis answers again,
   * the run is fenced off (it can no longer happen) and `undo` gets its
   * reply if it had happened. For a native command it covers a reply that
   * still arrives on the same connection.
   */
  undo?: (reply: unknown) => void;
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
  connections.clear();
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
  session ??= process.env.SKYPOOL_SESSION || nodeCrypto().randomUUID().replace(/-/g, "").slice(0, 12);
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
 * The context for a location (cached: handles of the same namespace share
 * one object and one connection per URL).
 *
 * @example
 * ```ts
 * import { contextFor } from "./src/state/redis.ts";
 * const ctx = contextFor({ url: "redis://127.0.0.1:6379", prefix: "skypool", session: "s1" });
 * console.assert(ctx.key("lock", "a1") === "skypool:s1:{lock:a1}");
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
  return nodeCrypto().randomUUID().replace(/-/g, "");
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
    if (/[:\s{}]/.test(location.session) || location.session === "") {
      throw new TypeError(`session must be a non-empty string without ':', spaces or braces, got ${JSON.stringify(location.session)}`);
    }
    this.location = Object.freeze({ ...location });
    this.connection = connectionFor(location.url);
  }

  /** `{prefix}:{session}`: every key of this context starts with it. */
  get namespace(): string {
    return `${this.location.prefix}:${this.location.session}`;
  }

  /**
   * Builds a key `{prefix}:{session}:{{kind}:{id}}[:{sub}]`: the braces
   * are a Redis Cluster hash tag, so every key of one object lives in one
   * slot (its scripts touch one slot) and different objects spread.
   * @throws {TypeError} for an empty kind or id.
   */
  key(kind: string, id: string, sub?: string): string {
    if (!kind || !id) throw new TypeError("key needs a kind and an id");
    return sub === undefined ? `${this.namespace}:{${kind}:${id}}` : `${this.namespace}:{${kind}:${id}}:${sub}`;
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
   * restart — EVAL, which also caches it). The expiry and the run's
   * operation id are prepended to ARGV by this method and hidden from the
   * script body; the run happens once even when the connection drops under
   * it and it is sent again.
   *
   * @throws {TypeError} if the number of keys does not match the script.
   * @throws {StateError} when the script returns `redis.error_reply('STATE …')`.
   * @throws {CommandTimeoutError} when Redis does not answer within `redis.commandTimeoutMs`.
   * @throws {TimeoutError} when `options.deadline` passes first.
   * @throws {SkypoolError} when Redis is unreachable or returns another error.
   */
  async run<T = RedisReply>(script: Script, keys: readonly string[], args: readonly RedisArg[] = [], options: CommandOptions = {}): Promise<T> {
    checkKeyCount(script, keys);
    // A script that refreshes no expiry only uses TTL for the keys it
    // creates: the expiry last read (by the same operation's earlier step,
    // e.g. `leaseMs` in an acquire) will do, which saves a config read.
    const expiry = script.touchKeys || this.#expiry === 0 ? this.expirySeconds : this.#expiry;
    const nk = keys.length;
    // The run's record and the acks share the slot of the script's keys.
    const tag = nk > 0 ? hashTagOf(keys[0]) : "";
    const pending = this.#acks.get(tag);
    const acks = pending === undefined ? NO_ACKS : pending.length > MAX_ACKS ? pending.splice(0, MAX_ACKS) : pending;
    if (acks === pending) this.#acks.delete(tag);
    const op = this.#newOp(tag);
    let touchedAt = -1;
    const argv: (string | Buffer)[] = new Array(3 + nk + acks.length + 1 + SCRIPT_HEADER + args.length);
    argv[0] = "EVALSHA";
    argv[1] = script.sha;
    argv[2] = String(nk + acks.length + 1);
    for (let i = 0; i < nk; i++) argv[3 + i] = keys[i];
    let at = 3 + nk;
    for (let i = 0; i < acks.length; i++) argv[at++] = acks[i];
    argv[at++] = op;
    if (script.lazy) {
      argv[at++] = String(Math.ceil(expiry * LAZY_SLACK));
      if (this.#touchDue(keys, expiry)) touchedAt = performance.now();
      argv[at++] = touchedAt >= 0 ? "1" : "0";
    } else {
      argv[at++] = String(expiry);
      argv[at++] = "1";
    }
    argv[at++] = this.#opTtl;
    argv[at++] = String(acks.length);
    argv[at++] = this.connection.cluster ? "0" : "1";
    for (let i = 0; i < args.length; i++) argv[at + i] = toArg(args[i]);
    const binary = options.binary ?? false;
    const limits: SendLimits = { resend: true, deadline: options.deadline };
    const undo = options.undo === undefined || !script.wakes ? options.undo : this.#wakeThen(options.undo);
    try {
      let reply: T;
      try {
        reply = await this.connection.commandArgs<T>(argv, binary, limits);
      } catch (err) {
        if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
        argv[0] = "EVAL";
        argv[1] = script.source;
        reply = await this.connection.commandArgs<T>(argv, binary, limits);
      }
      if (touchedAt >= 0) this.#noteTouched(keys, touchedAt);
      this.#ack(tag, op);
      if (script.wakes) {
        const [result, wakes] = reply as unknown as [T, (string | Buffer)[]];
        if (wakes.length > 0) await this.#deliver(wakes);
        return result;
      }
      return reply;
    } catch (err) {
      const e = translateError(err, script.name);
      if (!isErrorReply(err)) {
        // No answer (a timeout, a stall, a drop past every resend): whether
        // the run happened is unknown, so make it certain and undo it.
        if (undo !== undefined && !wasNeverSent(err)) this.#fence(op, binary, undo);
      } else if (e instanceof StateError) {
        // The refresh runs after the body even when it returns a STATE error.
        if (touchedAt >= 0) this.#noteTouched(keys, touchedAt);
        this.#ack(tag, op);
      }
      throw e;
    }
  }

  // A waking script's late reply: its wake-ups still go out, then `undo`.
  #wakeThen(undo: (reply: unknown) => void): (reply: unknown) => void {
    return (reply) => {
      const [result, wakes] = reply as [unknown, (string | Buffer)[]];
      const delivered = wakes.length > 0 ? this.#deliver(wakes) : Promise.resolve();
      delivered.catch(() => {}).then(() => undo(result));
    };
  }

  /** Pushes the wake-ups a script returned (`[key, message, …]`; see `ScriptDefinition.wakes`). */
  #deliver(wakes: readonly (string | Buffer)[]): Promise<unknown> {
    const keys: string[] = [];
    const messages: (string | Buffer)[] = [];
    for (let i = 0; i < wakes.length; i += 2) {
      keys.push(String(wakes[i]));
      messages.push(wakes[i + 1]);
    }
    return this.run(WAKE, keys, messages);
  }

  #ack(tag: string, op: string): void {
    let list = this.#acks.get(tag);
    if (list === undefined) {
      // Acks of objects not used again are left to expire with their records.
      if (this.#acks.size >= MAX_ACK_TAGS) this.#acks.delete(this.#acks.keys().next().value!);
      this.#acks.set(tag, list = []);
    }
    list.push(op);
  }

  /**
   * Makes sure the script run `op`, given up on, either happened or never
   * will: once Redis answers, its record is replaced by one that makes a
   * late delivery of the run a no-op, and `undo` gets the run's reply if it
   * had happened. Tried again until Redis answers or the record would have
   * expired anyway.
   */
  #fence(op: string, binary: boolean, undo: (reply: unknown) => void): void {
    const until = performance.now() + Number(this.#opTtl);
    const attempt = (): void => {
      this.run<[number, unknown?]>(FENCE, [op], [this.#opTtl], { binary }).then(
        ([ran, reply]) => {
          if (ran === 1) undo(reply);
        },
        () => {
          if (performance.now() < until) unrefTimer(setTimeout(attempt, FENCE_RETRY_MS));
        },
      );
    };
    attempt();
  }

  // Operation ids of script runs whose reply arrived, by hash tag: the next
  // runs on the same slot delete them (a record is only needed while a
  // resend is possible).
  #acks = new Map<string, string[]>();
  #opCount = 0;
  #opPrefix = "";
  #opTtlFor = -1;
  #opTtlMs = "";

  // Operation records are bookkeeping, not state of any object: they live
  // beside the namespace (`{prefix}:op:{session}:…`), so that a scan of the
  // namespace sees only what primitives made, and expire by themselves.
  // Each carries the hash tag of the keys of its run, so that it lives in
  // their slot on a Redis Cluster.
  #newOp(tag: string): string {
    if (this.#opPrefix === "") this.#opPrefix = `${this.location.prefix}:op:${this.location.session}:${newId().slice(0, 12)}.`;
    return `${this.#opPrefix}${(++this.#opCount).toString(36)}${tag}`;
  }

  // A run's record outlives every resend of it: those happen within a
  // command deadline plus a reconnection.
  get #opTtl(): string {
    const commandMs = commandTimeoutMs();
    if (commandMs !== this.#opTtlFor) {
      this.#opTtlFor = commandMs;
      this.#opTtlMs = String(Math.ceil(2 * (commandMs + connectTimeoutMs()) + 10_000));
    }
    return this.#opTtlMs;
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
   * they get a TTL. Only reads and commands that are harmless twice are
   * sent again after a dropped connection; others then fail with a
   * `StateError`.
   *
   * @throws {CommandTimeoutError} when Redis does not answer within `redis.commandTimeoutMs`.
   * @throws {TimeoutError} when `options.deadline` passes first.
   * @throws {SkypoolError} when Redis is unreachable or replies with an error.
   */
  async command<T = RedisReply>(args: readonly RedisArg[], options: CommandOptions = {}): Promise<T> {
    const name = String(args[0]).toUpperCase();
    try {
      return await this.connection.commandArgs<T>(toArgs(args), options.binary ?? false, {
        resend: RESENDABLE.has(name),
        deadline: options.deadline,
        onLate: options.undo,
      });
    } catch (err) {
      throw translateError(err, name);
    }
  }

  /**
   * Sends a blocking command (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH; its timeout
   * in seconds last) on a dedicated connection, so that it stalls nobody
   * else. A long wait, or one forever (`0`), is sent as a series of waits
   * of at most `redis.commandTimeoutMs`, each of which Redis must end
   * within that much more (else a `CommandTimeoutError`); the last one,
   * if Redis does not end it on time (frozen), ends here as a timeout
   * (`null`) shortly after.
   *
   * @throws {TypeError} for another command.
   * @throws {CommandTimeoutError} when Redis stops answering before the last slice of a wait.
   * @throws {SkypoolError} when Redis is unreachable or replies with an error.
   */
  async blocking<T = RedisReply>(args: readonly RedisArg[], options: CommandOptions = {}): Promise<T | null> {
    const name = String(args[0]).toUpperCase();
    if (!BLOCKING.has(name)) throw new TypeError(`blocking() sends ${[...BLOCKING].join(", ")}, not ${name}`);
    const argv = toArgs(args);
    const seconds = Number(argv[argv.length - 1]);
    if (!(seconds >= 0)) throw new TypeError(`${name} needs a timeout in seconds last, got ${String(argv[argv.length - 1])}`);
    const binary = options.binary ?? false;
    // The wait is sent in slices of at most `redis.commandTimeoutMs`, so a
    // server that freezes during a long wait is noticed within two of them.
    const end = seconds === 0 ? Infinity : performance.now() + seconds * 1000;
    try {
      for (;;) {
        const commandMs = commandTimeoutMs();
        const left = end - performance.now();
        const last = left <= commandMs;
        const blockMs = last ? Math.max(left, 1) : commandMs;
        argv[argv.length - 1] = (blockMs / 1000).toFixed(3);
        // The last slice ends the caller's wait: a server that does not end
        // it on time ends it here, shortly after, as a timeout.
        const stallMs = blockMs + (last ? BLOCK_GRACE_MS : commandMs);
        let reply: T | null;
        try {
          reply = await this.connection.withDedicated((send) => send<T | null>(argv, binary, { stallMs }), options.deadline);
        } catch (err) {
          if (!last || !(err instanceof CommandTimeoutError)) throw err;
          reply = null;
        }
        if (reply !== null || last) return reply;
      }
    } catch (err) {
      throw translateError(err, name);
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
    const reply = await this.blocking<[string | Buffer, string | Buffer]>(["BLPOP", ...keys, seconds], options);
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
    return await this.unlink(await this.connection.scan(this.pattern));
  }

  /**
   * Deletes keys, one UNLINK per object (its keys share a slot, which a
   * Redis Cluster asks of one command's keys); resolves how many existed.
   */
  async unlink(keys: readonly string[]): Promise<number> {
    const byTag = new Map<string, string[]>();
    for (const k of keys) {
      const tag = hashTagOf(k);
      const group = byTag.get(tag);
      if (group === undefined) byTag.set(tag, [k]);
      else group.push(k);
    }
    const counts = await Promise.all([...byTag.values()].map((group) => this.command<number>(["UNLINK", ...group])));
    return counts.reduce((a, b) => a + b, 0);
  }
}

const TOUCH = defineScript({ name: "redis.touch", keys: ["key..."], lua: "return 1" });

/**
 * Fences off a script run given up on (see `RedisContext.#fence`): KEYS:
 * its operation id. ARGV: the record's expiry in ms. Returns `{1, reply}`
 * if the run had happened, else `{0}`; either way the run can no longer
 * happen (its record now replays a nil reply).
 */
const FENCE = defineScript({
  name: "redis.fence",
  keys: ["op"],
  touchKeys: false,
  lua: `
local r = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], cmsgpack.pack({}), 'PX', ARGV[1])
if not r then return {0} end
return {1, cmsgpack.unpack(r)[1]}
`,
});

/** How often a fence is tried again while Redis does not answer. */
const FENCE_RETRY_MS = 250;

/** How many acknowledged operation ids one script run deletes. */
const MAX_ACKS = 16;

/** How many hash tags keep acknowledged operation ids waiting for a run on their slot. */
const MAX_ACK_TAGS = 1024;

const NO_ACKS: string[] = [];

/** Delivers wake-ups (see `ScriptDefinition.wakes`): KEYS: wake lists; ARGV: one message each. */
const WAKE = defineScript({
  name: "redis.wake",
  keys: ["wake..."],
  lua: `
for i = 1, #KEYS do redis.call('RPUSH', KEYS[i], ARGV[i]) end
return #KEYS
`,
});

/**
 * The hash tag of a key as Redis Cluster reads it (`{…}`, braces included,
 * the first non-empty one), or the whole key braced when it has none: a
 * key ending in it hashes to the same slot.
 *
 * @example
 * ```ts
 * import { hashTagOf } from "./src/state/redis.ts";
 * console.assert(hashTagOf("p:s:{lock:a}:owner") === "{lock:a}");
 * console.assert(hashTagOf("plain") === "{plain}");
 * ```
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) return key.slice(open, close + 1);
  }
  return `{${key}}`;
}

/**
 * How long after the end of a bounded blocking wait Redis may take to end
 * it before the wait counts as ended by a frozen server.
 */
const BLOCK_GRACE_MS = 400;

/** The blocking commands {@link RedisContext.blocking} sends (timeout last). */
const BLOCKING = new Set(["BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH"]);

/** Commands that are harmless to apply twice, so they are sent again after a drop. */
const RESENDABLE = new Set([
  "GET", "MGET", "EXISTS", "TYPE", "TTL", "PTTL", "STRLEN", "GETRANGE",
  "LLEN", "LINDEX", "LRANGE", "HGET", "HMGET", "HGETALL", "HLEN", "HEXISTS", "HKEYS", "HVALS",
  "SCARD", "SISMEMBER", "SMEMBERS", "ZSCORE", "ZCARD", "ZRANGE", "XLEN", "XRANGE",
  "SCAN", "PING", "INFO", "TIME", "DEL", "UNLINK", "EXPIRE", "PEXPIRE",
]);

/** Maps a Redis/node-redis error to skypool's errors. */
function translateError(err: unknown, what: string): Error {
  if (err instanceof SkypoolError || err instanceof TypeError || err instanceof RangeError) return err;
  const message = String((err as Error)?.message ?? err);
  const state = /^STATE (.*)$/s.exec(message);
  if (state) return new StateError(state[1]);
  return new SkypoolError(`Redis ${what} failed: ${message}`, { cause: err });
}
