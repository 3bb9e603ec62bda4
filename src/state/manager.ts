/**
 * `Manager`: Python's `multiprocessing.Manager()` over Redis. There is no
 * manager server process: the shared dicts, lists and namespaces live in
 * Redis like every other primitive, and the Manager is the owner that
 * makes them and, at `shutdown()`, deletes them.
 *
 * @module
 */
import { SkypoolError, StateError } from "../errors.ts";
import { Barrier, type BarrierOptions } from "./barrier.ts";
import { Condition } from "./condition.ts";
import { DictProxy, type DictInit, encodePairs, type ManagedProxy, PROXY_GATE, trackInitialWrite } from "./dict_proxy.ts";
import { Event } from "./event.ts";
import { type HandleRecord, restoreHandle, type StateHandle } from "./handle.ts";
import { encodeItems, ListProxy } from "./list_proxy.ts";
import { Lock, RLock } from "./lock.ts";
import { DICT_SEED, LIST_SEED, MANAGER_SHUTDOWN } from "./lua/manager.ts";
import { NamespaceProxy } from "./namespace_proxy.ts";
import { JoinableQueue, Queue } from "./queue.ts";
import { contextFor, defaultLocation, type Location, newId, redactUrl, type RedisContext, type Script } from "./redis.ts";
import { BoundedSemaphore, Semaphore } from "./semaphore.ts";
import { type ArrayInit, SharedArray } from "./shared_array.ts";
import type { Typecode, TypecodeInput } from "./typecodes.ts";
import { type LockLike, type SynchronizedOptions, Value } from "./value.ts";
import { show } from "../validate.ts";

/** The oldest Redis the containers work on (`LPOS`, fractional blocking timeouts). */
const MIN_REDIS = [6, 0, 6] as const;

/** How many containers are shut down at once (one script each: its keys share a slot). */
const SHUTDOWN_BATCH = 64;

type State = "initial" | "starting" | "started" | "shutdown";

/**
 * Makes shared objects that live in Redis and deletes them all at
 * `shutdown()` (Python's `multiprocessing.Manager()` / `SyncManager`).
 *
 * - `start()` resolves where the objects live (the configured Redis, or
 *   the private embedded `redis-server`, started then), checks that Redis
 *   answers and is recent enough, and resolves the manager itself, so
 *   `await using manager = await new Manager().start()` is one line.
 * - The factories are synchronous and need a started manager (as in
 *   Python). They make the same Redis-backed classes as their
 *   constructors, with the same arguments, placed where the manager lives
 *   — plus the containers only a manager makes: {@link dict},
 *   {@link list} and {@link Namespace}.
 * - `shutdown()` (also `await using`) deletes every object the manager
 *   made. Its dicts, lists and namespaces then fail with a `StateError` in
 *   every process that still holds them; the other objects (locks,
 *   queues…) have their keys deleted, so a handle used afterwards starts
 *   over from an empty object (they carry no link to the manager).
 *   Objects made with `new Lock()` etc. directly are not the manager's and
 *   are left alone. Shutdown does not close the Redis connection: it is
 *   shared by every handle of the process, and idle connections do not
 *   keep the program alive.
 * - A manager is not shipped to workers; its objects are (they travel as
 *   handles, nested in any data, and arrive connected to the same Redis).
 *
 * @example
 * ```ts
 * import { Manager } from "./mod.ts";
 * await using manager = await new Manager().start();
 * const scores = manager.dict<number>({ ann: 3 });
 * const log = manager.list<string>();
 * const lock = manager.Lock();
 * await lock.acquire();
 * await scores.set("bob", 5);
 * await log.append("bob scored");
 * await lock.release();
 * console.assert(await scores.size() === 2 && await log.length() === 1);
 * ```
 */
export class Manager {
  /** This manager's id (its objects carry it). */
  readonly id: string = newId();
  #state: State = "initial";
  #starting?: Promise<unknown>;
  #location?: Location;
  #ctx?: RedisContext;
  // What shutdown deletes, kept as key names and `kind:id` strings, not
  // as the objects, so that unused proxies and handles can be collected.
  // One entry per container: its tombstone, then its data keys.
  #containers: string[][] = [];
  #objects = new Set<string>();
  #writes = new Set<Promise<unknown>>();

  /**
   * Connects to Redis and checks it. Resolves this manager.
   *
   * @throws {StateError} if the manager is already started or has shut down.
   * @throws {SkypoolError} when no Redis is configured and redis-server is
   *   missing, when Redis cannot be reached in time, or when it is older
   *   than 6.0.6.
   */
  async start(): Promise<this> {
    if (this.#state === "starting" || this.#state === "started") throw new StateError("the Manager is already started");
    if (this.#state === "shutdown") throw new StateError("the Manager has shut down; make a new one");
    this.#state = "starting";
    const starting = (async () => {
      const location = defaultLocation();
      const ctx = contextFor(location);
      await checkServer(ctx);
      return { location, ctx };
    })();
    this.#starting = starting;
    try {
      const { location, ctx } = await starting;
      this.#location = location;
      this.#ctx = ctx;
      this.#state = "started";
      return this;
    } catch (err) {
      this.#state = "initial";
      throw err;
    } finally {
      this.#starting = undefined;
    }
  }

  /** Whether the manager is started and not shut down. */
  get running(): boolean {
    return this.#state === "started";
  }

  /**
   * Where the manager's objects live.
   * @throws {StateError} before `start()` resolves.
   */
  get location(): Location {
    if (this.#location === undefined) throw new StateError("the Manager is not started");
    return this.#location;
  }

  /**
   * Deletes every object this manager made (see the class notes) and
   * marks the manager shut down: its factories throw `StateError` from
   * then on. A manager never started, or already shut down, just resolves.
   *
   * @throws {SkypoolError} when Redis cannot be reached (the manager is
   *   shut down anyway; its objects then expire after `redisExpiryTime`).
   */
  async shutdown(): Promise<void> {
    if (this.#starting !== undefined) await this.#starting.catch(() => {});
    if (this.#state === "shutdown") return;
    this.#state = "shutdown";
    const ctx = this.#ctx;
    const containers = this.#containers;
    const objects = this.#objects;
    this.#containers = [];
    this.#objects = new Set();
    if (ctx === undefined) return;
    await Promise.allSettled([...this.#writes]);
    for (let i = 0; i < containers.length; i += SHUTDOWN_BATCH) {
      await Promise.all(containers.slice(i, i + SHUTDOWN_BATCH).map((keys) => ctx.run(MANAGER_SHUTDOWN, keys)));
    }
    if (objects.size > 0) await deleteObjects(ctx, objects);
  }

  /** `await using` shuts the manager down. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #record(): HandleRecord {
    if (this.#state !== "started") {
      throw new StateError(
        this.#state === "shutdown" ? "the Manager has shut down" : "the Manager is not started: `await manager.start()` first",
      );
    }
    const { url, prefix, session } = this.#location!;
    return { url, prefix, session, id: newId(), opts: { manager: this.id } };
  }

  #track(write: Promise<unknown>): void {
    this.#writes.add(write);
    write.then(() => this.#writes.delete(write), () => this.#writes.delete(write));
  }

  #seed(proxy: ManagedProxy, script: Script, keys: string[], args: (string | Uint8Array)[]): void {
    this.#track(trackInitialWrite(proxy.id, proxy.kind, this.#ctx!.run(script, keys, args)));
  }

  // Makes a handle of another class where the manager lives: the record
  // passed to restoreHandle gives the first handle constructed its id and
  // location.
  #make<T extends StateHandle>(make: () => T): T {
    const handle = restoreHandle(this.#record(), make);
    this.#objects.add(`${handle.kind}:${handle.id}`);
    return handle;
  }

  /**
   * A new shared dict, filled with `init` (a plain object, a `Map`, or an
   * iterable of `[key, value]` pairs). The initial content is encoded at
   * once (so a bad key or value throws here) and written in the
   * background: calls through the proxy in this process wait for the
   * write, and a proxy shipped to another process before it landed waits
   * there (in Redis) for it. If the write fails, every call through the
   * proxy rejects with a `StateError`.
   *
   * @throws {StateError} if the manager is not started or has shut down.
   * @throws {TypeError} for a bad `init` or key. @throws {SerializationError} for a value the codec refuses.
   */
  dict<V = unknown>(init?: DictInit<V>): DictProxy<V> {
    const record = this.#record();
    const args = init === undefined ? [] : encodePairs(init, "dict");
    const proxy = new DictProxy<V>(PROXY_GATE, record);
    this.#containers.push(shutdownKeys(this.#ctx!, proxy));
    if (args.length > 0) this.#seed(proxy, DICT_SEED, dictKeys(this.#ctx!, proxy), args);
    return proxy;
  }

  /**
   * A new shared list, filled with the items of `init` (any iterable),
   * written as for {@link dict}.
   *
   * @throws {StateError} if the manager is not started or has shut down.
   * @throws {TypeError} for an `init` that is not iterable. @throws {SerializationError} for an item the codec refuses.
   */
  list<V = unknown>(init?: Iterable<V>): ListProxy<V> {
    const record = this.#record();
    const items = init === undefined ? [] : encodeItems(init, "list");
    const proxy = new ListProxy<V>(PROXY_GATE, record);
    this.#containers.push(shutdownKeys(this.#ctx!, proxy));
    if (items.length > 0) this.#seed(proxy, LIST_SEED, listKeys(this.#ctx!, proxy), items);
    return proxy;
  }

  /**
   * A new shared namespace, with the names and values of `init` (Python's
   * `Namespace(**kwargs)`), written as for {@link dict}.
   *
   * @throws {StateError} if the manager is not started or has shut down.
   * @throws {TypeError} for an `init` that is not a plain object. @throws {SerializationError} for a value the codec refuses.
   */
  Namespace(init?: Readonly<Record<string, unknown>>): NamespaceProxy {
    const record = this.#record();
    if (init !== undefined && (init === null || typeof init !== "object" || Symbol.iterator in init)) {
      throw new TypeError(`Namespace(init) takes a plain object of names and values, got ${show(init)}`);
    }
    const args = init === undefined ? [] : encodePairs(init, "Namespace");
    if (Object.keys(init ?? {}).includes("")) throw new TypeError("a Namespace name must not be empty");
    const proxy = new NamespaceProxy(PROXY_GATE, record);
    this.#containers.push(shutdownKeys(this.#ctx!, proxy));
    if (args.length > 0) this.#seed(proxy, DICT_SEED, dictKeys(this.#ctx!, proxy), args);
    return proxy;
  }

  /** A `Queue` (see its constructor). @throws {StateError} if not started or shut down; otherwise as `new Queue`. */
  Queue<T = unknown>(maxsize = 0): Queue<T> {
    return this.#make(() => new Queue<T>(maxsize));
  }

  /** A `JoinableQueue`. @throws {StateError} if not started or shut down; otherwise as `new JoinableQueue`. */
  JoinableQueue<T = unknown>(maxsize = 0): JoinableQueue<T> {
    return this.#make(() => new JoinableQueue<T>(maxsize));
  }

  /** A `Lock`. @throws {StateError} if not started or shut down. */
  Lock(): Lock {
    return this.#make(() => new Lock());
  }

  /** An `RLock`. @throws {StateError} if not started or shut down. */
  RLock(): RLock {
    return this.#make(() => new RLock());
  }

  /** A `Semaphore`. @throws {StateError} if not started or shut down; otherwise as `new Semaphore`. */
  Semaphore(value = 1): Semaphore {
    return this.#make(() => new Semaphore(value));
  }

  /** A `BoundedSemaphore`. @throws {StateError} if not started or shut down; otherwise as `new BoundedSemaphore`. */
  BoundedSemaphore(value = 1): BoundedSemaphore {
    return this.#make(() => new BoundedSemaphore(value));
  }

  /**
   * A `Condition` on `lock`, or on a new `RLock` of this manager.
   * @throws {StateError} if not started or shut down; otherwise as `new Condition`.
   */
  Condition(lock?: Lock | RLock): Condition {
    this.#record();
    const own = lock ?? this.RLock();
    return this.#make(() => new Condition(own));
  }

  /** An `Event`. @throws {StateError} if not started or shut down. */
  Event(): Event {
    return this.#make(() => new Event());
  }

  /** A `Barrier`. @throws {StateError} if not started or shut down; otherwise as `new Barrier`. */
  Barrier(parties: number, options?: BarrierOptions): Barrier {
    return this.#make(() => new Barrier(parties, options));
  }

  // `lock: true` (the default) becomes an RLock of this manager, made
  // before the object so that the object, not its lock, takes the record.
  #lockOption(options: SynchronizedOptions | undefined): SynchronizedOptions | undefined {
    if (options !== undefined && (options === null || typeof options !== "object")) return options;
    const lock = options?.lock ?? true;
    return lock === true ? { ...options, lock: this.RLock() as LockLike } : options;
  }

  /**
   * A `Value` (with a lock of this manager unless `lock` says otherwise).
   * @throws {StateError} if not started or shut down; otherwise as `new Value`.
   */
  Value<C extends Typecode>(typecode: C, initial?: TypecodeInput<C>, options?: SynchronizedOptions): Value<C> {
    this.#record();
    const opts = this.#lockOption(options);
    return this.#make(() => new Value<C>(typecode, initial, opts));
  }

  /**
   * A `SharedArray` (with a lock of this manager unless `lock` says otherwise).
   * @throws {StateError} if not started or shut down; otherwise as `new SharedArray`.
   */
  Array<C extends Typecode>(typecode: C, sizeOrValues: ArrayInit<C>, options?: SynchronizedOptions): SharedArray<C> {
    this.#record();
    const opts = this.#lockOption(options);
    return this.#make(() => new SharedArray<C>(typecode, sizeOrValues, opts));
  }
}

// The layouts of `lua/manager.ts`: data keys, `ready`, then the tombstone.
function dictKeys(ctx: RedisContext, proxy: ManagedProxy): string[] {
  const k = (sub: string) => ctx.key(proxy.kind, proxy.id, sub);
  return [k("data"), k("order"), k("ready"), k("down")];
}

function listKeys(ctx: RedisContext, proxy: ManagedProxy): string[] {
  return [ctx.key(proxy.kind, proxy.id, "items"), ctx.key(proxy.kind, proxy.id, "ready"), ctx.key(proxy.kind, proxy.id, "down")];
}

/** A container's tombstone, then its other keys (what `MANAGER_SHUTDOWN` takes). */
function shutdownKeys(ctx: RedisContext, proxy: ManagedProxy): string[] {
  const keys = proxy instanceof ListProxy ? listKeys(ctx, proxy) : dictKeys(ctx, proxy);
  return [keys[keys.length - 1], ...keys.slice(0, -1)];
}

/**
 * Deletes every key of the given objects: one pass over the namespace,
 * since the primitives keep sub-keys (leases, wake lists, waiters) whose
 * names only they know; all of them start with `{{kind}:{id}}` (their hash tag).
 */
async function deleteObjects(ctx: RedisContext, owned: ReadonlySet<string>): Promise<void> {
  const head = `${ctx.namespace}:{`;
  const mine = (await ctx.connection.scan(ctx.pattern)).filter((k) => {
    const end = k.indexOf("}", head.length);
    return k.startsWith(head) && end > 0 && owned.has(k.slice(head.length, end));
  });
  await ctx.unlink(mine);
}

/** Checks that Redis answers, and its version when the server tells it. */
async function checkServer(ctx: RedisContext): Promise<void> {
  await ctx.command(["PING"]);
  let info: string;
  try {
    info = String(await ctx.command<string>(["INFO", "server"]));
  } catch {
    return; // INFO refused (ACL, renamed command): the version stays unchecked.
  }
  const m = /redis_version:(\d+)\.(\d+)\.(\d+)/.exec(info);
  if (m === null) return;
  const version = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) {
    if (version[i] > MIN_REDIS[i]) return;
    if (version[i] < MIN_REDIS[i]) {
      throw new SkypoolError(
        `Redis ${version.join(".")} at ${redactUrl(ctx.location.url)} is too old: skypool needs ${MIN_REDIS.join(".")} or newer`,
      );
    }
  }
}
