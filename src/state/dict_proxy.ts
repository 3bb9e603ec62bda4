/**
 * `DictProxy`: a Manager's shared dict in Redis (Python's `DictProxy`),
 * and {@link ManagedProxy}, the base of every Manager container proxy.
 *
 * @module
 */
import { decode, encode } from "../task/codec.ts";
import { StateError } from "../errors.ts";
import { connectTimeoutMs, type Script } from "./redis.ts";
import { type HandleRecord, registerStateHandle, StateHandle } from "./handle.ts";
import {
  CONTAINER_READY,
  DICT_CLEAR,
  DICT_DELETE,
  DICT_GET,
  DICT_HAS,
  DICT_ITEMS,
  DICT_POP,
  DICT_POPITEM,
  DICT_SETDEFAULT,
  DICT_SIZE,
  DICT_UPDATE,
} from "./lua/manager.ts";
import { show } from "../validate.ts";

/** Proves that a proxy is being made by a Manager (or rebuilt by the codec). @internal */
export const PROXY_GATE: unique symbol = Symbol("skypool.managerProxy");

// Initial contents being written, by object id: every call made through a
// proxy of that object in this process waits for them first, so a proxy
// never reads before its own initial content.
const pendingWrites = new Map<string, Promise<unknown>>();

/**
 * Registers the write of an object's initial content; calls through any
 * proxy of that object in this process wait for it. A write that fails
 * makes every later call through them fail with a `StateError` (the
 * content is not there, and going on would lose it silently). @internal
 */
export function trackInitialWrite(id: string, what: string, write: Promise<unknown>): Promise<unknown> {
  const tracked = write.then(
    () => {
      if (pendingWrites.get(id) === tracked) pendingWrites.delete(id);
    },
    (err) => {
      throw new StateError(`the initial content of this ${what} could not be written, so it cannot be used: ${(err as Error)?.message ?? err}`, {
        cause: err,
      });
    },
  );
  pendingWrites.set(id, tracked);
  tracked.catch(() => {});
  return tracked;
}

function gateRecord(kind: string, gate: unknown, record: HandleRecord): HandleRecord {
  if (gate !== PROXY_GATE) {
    throw new TypeError(`a ${kind} proxy is made by a Manager (for example \`manager.${kind === "namespace" ? "Namespace" : kind}()\`), not with new`);
  }
  if (typeof record?.opts?.manager !== "string") throw new TypeError(`malformed ${kind} proxy record: no manager id`);
  return record;
}

/** How long a proxy shipped before its initial content was written waits for it. */
function seedWaitMs(): number {
  return 2 * connectTimeoutMs();
}

/**
 * What the Manager's container proxies share: the owning manager's id
 * (its shutdown makes every proxy fail with a `StateError`), and calls
 * that wait for the object's initial content — in this process, for the
 * write itself; in another process, when the proxy was shipped while that
 * write was in flight, for its `ready` mark in Redis. `mod.ts` exports
 * it as a type only, for the members its subclasses share.
 */
export abstract class ManagedProxy extends StateHandle {
  /** The id of the Manager that made this object. */
  readonly managerId: string;
  // Shipped before its initial content was written: wait for it once.
  #seedPending: boolean;
  #seedWait?: Promise<void>;

  /** @ignore */
  protected constructor(kind: string, gate: unknown, record: HandleRecord) {
    super(kind, gateRecord(kind, gate, record));
    this.managerId = record.opts.manager as string;
    this.#seedPending = record.opts.pending === true;
  }

  /**
   * The container's tombstone key, passed last to every script: the
   * manager's shutdown writes one per container, in the container's own
   * slot, so that each script touches one slot of a Redis Cluster.
   * @ignore
   */
  protected tombKey(): string {
    return this.key("down");
  }

  /**
   * The key a container with initial content is marked ready in.
   * @ignore
   */
  protected readyKey(): string {
    return this.key("ready");
  }

  async #waitForSeed(): Promise<void> {
    const keys = [this.readyKey(), this.tombKey()];
    if ((await this.ctx.run<number>(CONTAINER_READY, keys)) === 0) {
      // Blocks in Redis until the seeding script pushes the mark; rotating
      // the one-element list leaves it for every other waiter.
      const ms = seedWaitMs();
      const got = await this.ctx.blocking(["BRPOPLPUSH", keys[0], keys[0], (ms / 1000).toFixed(3)]);
      if (got === null) {
        throw new StateError(`the initial content of this ${this.kind} did not arrive within ${ms} ms (its writer failed or is gone), so it cannot be used`);
      }
    }
    this.#seedPending = false;
  }

  /**
   * Runs a container script once the object's initial content is written.
   * @ignore
   */
  protected async call<T>(script: Script, keys: readonly string[], args: readonly (string | number | Uint8Array)[], binary = false): Promise<T> {
    const pending = pendingWrites.get(this.id);
    if (pending !== undefined) {
      await pending;
      this.#seedPending = false;
    } else if (this.#seedPending) {
      await (this.#seedWait ??= this.#waitForSeed());
    }
    return await this.ctx.run<T>(script, keys, args, { binary });
  }

  /** The options the codec ships. @internal */
  shippedOptions(): Record<string, unknown> {
    const pending = this.#seedPending || pendingWrites.has(this.id);
    return pending ? { manager: this.managerId, pending: true } : { manager: this.managerId };
  }
}

/** A dict key: a string or a number (`1` and `"1"` are different keys, as in Python). */
export type DictKey = string | number;

/** What `Manager.dict()` and {@link DictProxy.update} accept. */
export type DictInit<V> = Readonly<Record<string, V>> | ReadonlyMap<DictKey, V> | Iterable<readonly [DictKey, V]>;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The Redis field of a key: its type tag and its text. @internal */
export function fieldOf(key: unknown, what = "dict key"): string {
  if (typeof key === "string") {
    // Redis stores UTF-8: a lone surrogate would come back as U+FFFD and
    // two different keys would meet.
    if (LONE_SURROGATE.test(key)) throw new TypeError(`${what} ${JSON.stringify(key)} has a lone surrogate (not valid Unicode)`);
    return "s" + key;
  }
  // -0 and 0 are one key, as in a Map and in Python.
  if (typeof key === "number") return "n" + (key === 0 ? "0" : String(key));
  throw new TypeError(`${what} must be a string or a number, got ${show(key)}`);
}

const utf8 = new TextDecoder();

/** The key of a Redis field. @internal */
export function keyOf(field: Uint8Array | string): DictKey {
  const text = typeof field === "string" ? field : utf8.decode(field);
  return text[0] === "n" ? Number(text.slice(1)) : text.slice(1);
}

/** Encodes a key's value, naming it in a `SerializationError`. @internal */
export function encodeValue(value: unknown, path: string): Uint8Array {
  return encode(value, { path });
}

/**
 * Turns a dict initialiser (plain object, `Map`, or iterable of
 * `[key, value]` pairs) into `field, value, field, value…` arguments,
 * encoding every value first: a bad key or value throws before anything
 * is sent.
 *
 * @throws {TypeError} for something that is not one of those, a pair
 *   that is not a two-item array, or a bad key.
 * @throws {SerializationError} for a value the codec refuses.
 * @internal
 */
export function encodePairs(init: unknown, what: string): (string | Uint8Array)[] {
  if (init === null || typeof init !== "object") {
    throw new TypeError(`${what} needs a plain object, a Map or an iterable of [key, value] pairs, got ${show(init)}`);
  }
  if (init instanceof DictProxy) {
    throw new TypeError(`${what} cannot read another dict proxy synchronously: pass \`await other.toMap()\``);
  }
  const args: (string | Uint8Array)[] = [];
  const add = (key: unknown, value: unknown) => {
    const field = fieldOf(key);
    args.push(field, encodeValue(value, `${what}[${JSON.stringify(key)}]`));
  };
  if (Symbol.iterator in init) {
    let i = 0;
    for (const pair of init as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(`${what}: element #${i} must be a [key, value] pair, got ${show(pair)}`);
      }
      add(pair[0], pair[1]);
      i++;
    }
  } else {
    for (const [key, value] of Object.entries(init)) add(key, value);
  }
  return args;
}

/**
 * A dict shared through Redis, made by `Manager.dict()` (Python's
 * `DictProxy`). Every method is one atomic Redis script, so processes
 * using the same dict at once never lose an update.
 *
 * - **Keys** are strings or numbers, and `1` and `"1"` are two different
 *   keys (as in Python; `-0` is `0`). Keys keep their insertion order:
 *   setting an existing key keeps its place, deleting and setting it again
 *   moves it to the end.
 * - **Values** go through the codec: anything a task argument may hold.
 *   A value read is a copy (changing it changes nothing shared), except
 *   handles — a dict, list, Queue, Lock… stored in a dict comes back as a
 *   handle of the same shared object, so nested containers are references
 *   (Python's nested proxies).
 * - A missing key: {@link get} returns `undefined` (or the default given),
 *   {@link pop} without a default and {@link popitem} on an empty dict throw
 *   a `RangeError` (Python's `KeyError`), {@link delete} resolves `false`.
 * - After the Manager's `shutdown()` every call, in any process, rejects
 *   with a `StateError`.
 *
 * @example
 * ```ts
 * import { Manager } from "./mod.ts";
 * await using manager = await new Manager().start();
 * const d = manager.dict<number>({ a: 1 });
 * await d.set(2, 20);
 * await d.set("2", 21);
 * console.assert(await d.get(2) === 20 && await d.get("2") === 21);
 * console.assert(await d.pop("a") === 1);
 * console.assert(JSON.stringify(await d.entries()) === '[[2,20],["2",21]]');
 * ```
 */
export class DictProxy<V = unknown> extends ManagedProxy {
  /** @internal Made by `Manager.dict()`; `new DictProxy()` is a TypeError. */
  constructor(gate: typeof PROXY_GATE, record: HandleRecord) {
    super("dict", gate, record);
  }

  #keys(): string[] {
    return [this.key("data"), this.key("order"), this.readyKey(), this.tombKey()];
  }

  /**
   * The value of `key`, or `fallback` (default `undefined`) when it is missing.
   * @throws {TypeError} for a key that is not a string or a number.
   * @throws {StateError} after the Manager's shutdown.
   */
  async get(key: DictKey): Promise<V | undefined>;
  /**
   * The value of `key`, or `fallback` when it is missing.
   * @throws {TypeError} for a key that is not a string or a number.
   * @throws {StateError} after the Manager's shutdown.
   */
  async get<D>(key: DictKey, fallback: D): Promise<V | D>;
  async get(key: DictKey, ...fallback: unknown[]): Promise<unknown> {
    const field = fieldOf(key);
    const raw = await this.call<Uint8Array | null>(DICT_GET, this.#keys(), [field], true);
    return raw === null ? fallback[0] : decode(raw);
  }

  /**
   * Sets `key` to `value` (a new key goes to the end of the order).
   * @throws {TypeError} for a bad key. @throws {SerializationError} for a value the codec refuses.
   * @throws {StateError} after the Manager's shutdown.
   */
  async set(key: DictKey, value: V): Promise<void> {
    const field = fieldOf(key);
    const bytes = encodeValue(value, `dict[${JSON.stringify(key)}]`);
    await this.call(DICT_UPDATE, this.#keys(), [field, bytes]);
  }

  /**
   * Removes `key`; resolves whether it was there.
   * @throws {TypeError} for a bad key. @throws {StateError} after the Manager's shutdown.
   */
  async delete(key: DictKey): Promise<boolean> {
    return (await this.call<number>(DICT_DELETE, this.#keys(), [fieldOf(key)])) === 1;
  }

  /** Whether `key` is in the dict. @throws {TypeError} for a bad key. @throws {StateError} after shutdown. */
  async has(key: DictKey): Promise<boolean> {
    return (await this.call<number>(DICT_HAS, this.#keys(), [fieldOf(key)])) === 1;
  }

  /** The keys, in insertion order (a snapshot). @throws {StateError} after shutdown. */
  async keys(): Promise<DictKey[]> {
    const fields = await this.call<Uint8Array[]>(DICT_ITEMS, this.#keys(), ["k"], true);
    return fields.map(keyOf);
  }

  /** The values, in insertion order (a snapshot). @throws {StateError} after shutdown. */
  async values(): Promise<V[]> {
    const raw = await this.call<Uint8Array[]>(DICT_ITEMS, this.#keys(), ["v"], true);
    return raw.map((b) => decode(b) as V);
  }

  /** The `[key, value]` pairs, in insertion order (a snapshot). @throws {StateError} after shutdown. */
  async entries(): Promise<[DictKey, V][]> {
    const flat = await this.call<Uint8Array[]>(DICT_ITEMS, this.#keys(), ["kv"], true);
    const out: [DictKey, V][] = [];
    for (let i = 0; i < flat.length; i += 2) out.push([keyOf(flat[i]), decode(flat[i + 1]) as V]);
    return out;
  }

  /** The number of keys. @throws {StateError} after shutdown. */
  async size(): Promise<number> {
    return await this.call<number>(DICT_SIZE, this.#keys(), []);
  }

  /**
   * Sets every pair of `other` (a plain object — its keys are strings —,
   * a `Map`, an iterable of `[key, value]` pairs, or another dict proxy),
   * in one atomic step.
   *
   * @throws {TypeError} for another kind of argument or a bad key.
   * @throws {SerializationError} for a value the codec refuses (nothing is written).
   * @throws {StateError} after the Manager's shutdown.
   */
  async update(other: DictInit<V> | DictProxy<V>): Promise<void> {
    const source = other instanceof DictProxy ? await other.entries() : other;
    const args = encodePairs(source, "update");
    if (args.length > 0) await this.call(DICT_UPDATE, this.#keys(), args);
  }

  /**
   * Removes `key` and resolves its value; when it is missing, resolves
   * `fallback` if one was given.
   *
   * @throws {RangeError} when `key` is missing and no fallback was given (Python's `KeyError`).
   * @throws {TypeError} for a bad key. @throws {StateError} after shutdown.
   */
  async pop(key: DictKey): Promise<V>;
  /**
   * Removes `key` and resolves its value, or `fallback` when it is missing.
   * @throws {TypeError} for a bad key. @throws {StateError} after shutdown.
   */
  async pop<D>(key: DictKey, fallback: D): Promise<V | D>;
  async pop(key: DictKey, ...fallback: unknown[]): Promise<unknown> {
    const raw = await this.call<Uint8Array | null>(DICT_POP, this.#keys(), [fieldOf(key)], true);
    if (raw !== null) return decode(raw);
    if (fallback.length > 0) return fallback[0];
    throw new RangeError(`key ${JSON.stringify(key)} is not in the dict`);
  }

  /**
   * Removes the most recently inserted key and resolves `[key, value]`.
   * @throws {RangeError} when the dict is empty. @throws {StateError} after shutdown.
   */
  async popitem(): Promise<[DictKey, V]> {
    const pair = await this.call<[Uint8Array, Uint8Array] | null>(DICT_POPITEM, this.#keys(), [], true);
    if (pair === null) throw new RangeError("popitem(): the dict is empty");
    return [keyOf(pair[0]), decode(pair[1]) as V];
  }

  /**
   * Resolves the value of `key`; if it is missing, first sets it to
   * `fallback` (default `undefined`), atomically.
   *
   * @throws {TypeError} for a bad key. @throws {SerializationError} for a fallback the codec refuses.
   * @throws {StateError} after shutdown.
   */
  async setdefault(key: DictKey, fallback?: V): Promise<V> {
    const field = fieldOf(key);
    const bytes = encodeValue(fallback, `dict[${JSON.stringify(key)}]`);
    return decode(await this.call<Uint8Array>(DICT_SETDEFAULT, this.#keys(), [field, bytes], true)) as V;
  }

  /** Removes every key. @throws {StateError} after shutdown. */
  async clear(): Promise<void> {
    await this.call(DICT_CLEAR, this.#keys(), []);
  }

  /**
   * A plain-object copy, in insertion order (number keys become property
   * names, as they would in any object).
   *
   * @throws {TypeError} when a number key and a string key have the same
   *   text (`1` and `"1"`): an object cannot hold both, use {@link toMap}.
   * @throws {StateError} after shutdown.
   */
  async toObject(): Promise<Record<string, V>> {
    const out: Record<string, V> = {};
    const seen = new Set<string>();
    for (const [key, value] of await this.entries()) {
      const name = String(key);
      if (seen.has(name)) throw new TypeError(`toObject(): the dict has both ${name} and "${name}" as keys; use toMap()`);
      seen.add(name);
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  /** A `Map` copy, in insertion order, keeping number and string keys apart. @throws {StateError} after shutdown. */
  async toMap(): Promise<Map<DictKey, V>> {
    return new Map(await this.entries());
  }
}

registerStateHandle("dict", DictProxy, (d) => d.shippedOptions(), (r) => new DictProxy(PROXY_GATE, r));
