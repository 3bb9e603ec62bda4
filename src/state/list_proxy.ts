/**
 * `ListProxy`: a Manager's shared list in Redis (Python's `ListProxy`).
 *
 * @module
 */
import { decode } from "../task/codec.ts";
import { type HandleRecord, registerStateHandle } from "./handle.ts";
import { encodeValue, ManagedProxy, PROXY_GATE } from "./dict_proxy.ts";
import {
  LIST_CLEAR,
  LIST_COUNT,
  LIST_GET,
  LIST_INDEX,
  LIST_INSERT,
  LIST_LENGTH,
  LIST_POP,
  LIST_PUSH,
  LIST_REMOVE,
  LIST_SET,
  LIST_SLICE,
} from "./lua/manager.ts";
import { show } from "../validate.ts";

/** Checks an index argument (any safe integer; negative counts from the end). */
function checkIndex(i: unknown, what: string): number {
  if (typeof i !== "number") throw new TypeError(`${what} must be an integer, got ${show(i)}`);
  if (!Number.isSafeInteger(i)) throw new RangeError(`${what} must be an integer, got ${show(i)}`);
  return i;
}

/** An optional slice bound: `undefined` means "the end". */
function checkBound(i: unknown, what: string): number | "" {
  return i === undefined ? "" : checkIndex(i, what);
}

/**
 * Encodes the items of an iterable, naming a bad one. @throws {TypeError} for a non-iterable. @internal
 */
export function encodeItems(items: unknown, what: string): Uint8Array[] {
  if (items instanceof ListProxy) throw new TypeError(`${what} cannot read a list proxy synchronously: pass \`await other.toArray()\``);
  if (items === null || items === undefined || typeof (items as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${what} needs an iterable, got ${show(items)}`);
  }
  const out: Uint8Array[] = [];
  for (const item of items as Iterable<unknown>) out.push(encodeValue(item, `${what}[${out.length}]`));
  return out;
}

/**
 * A list shared through Redis, made by `Manager.list()` (Python's
 * `ListProxy`). Every method is one atomic Redis script, so processes
 * appending to the same list at once lose nothing.
 *
 * - **Indices** are integers; a negative one counts from the end, as in
 *   Python. An index out of range is a `RangeError` (Python's
 *   `IndexError`); {@link slice}, {@link insert} and {@link index} clamp
 *   their bounds as Python does.
 * - **Items** go through the codec. An item read is a copy, except handles
 *   (a dict, list, Queue… stored in a list comes back as a handle of the
 *   same shared object: nested containers are references).
 * - **Equality** for {@link remove}, {@link index} and {@link count} is
 *   equality of the encoded bytes: numbers, strings and other primitives
 *   compare by value, and so do arrays and plain objects whose properties
 *   were written in the same order (`{a: 1, b: 2}` is not `{b: 2, a: 1}`).
 * - Iterating (`for await (const x of list)`) reads the live list one
 *   index at a time (changes made meanwhile are seen, as in Python).
 * - After the Manager's `shutdown()` every call, in any process, rejects
 *   with a `StateError`.
 *
 * @example
 * ```ts
 * import { Manager } from "./mod.ts";
 * await using manager = await new Manager().start();
 * const list = manager.list<number>([0, 1, 2, 3]);
 * await list.append(4);
 * console.assert(await list.get(-1) === 4);
 * console.assert(JSON.stringify(await list.slice(2, 10)) === "[2,3,4]");
 * console.assert(await list.pop(0) === 0 && await list.length() === 4);
 * ```
 */
export class ListProxy<V = unknown> extends ManagedProxy implements AsyncIterable<V> {
  /** @internal Made by `Manager.list()`; `new ListProxy()` is a TypeError. */
  constructor(gate: typeof PROXY_GATE, record: HandleRecord) {
    super("list", gate, record);
  }

  #keys(): string[] {
    return [this.key("items"), this.readyKey(), this.tombKey()];
  }

  /**
   * The item at `i` (negative: from the end).
   * @throws {RangeError} when `i` is out of range or not an integer.
   * @throws {TypeError} for an `i` that is not a number. @throws {StateError} after shutdown.
   */
  async get(i: number): Promise<V> {
    checkIndex(i, "index");
    const raw = await this.call<Uint8Array | null>(LIST_GET, this.#keys(), [i], true);
    if (raw === null) throw new RangeError(`list index ${i} out of range`);
    return decode(raw) as V;
  }

  /**
   * Replaces the item at `i` (negative: from the end).
   * @throws {RangeError} when `i` is out of range. @throws {SerializationError} for a value the codec refuses.
   * @throws {StateError} after shutdown.
   */
  async set(i: number, value: V): Promise<void> {
    checkIndex(i, "index");
    const bytes = encodeValue(value, `list[${i}]`);
    if ((await this.call<number>(LIST_SET, this.#keys(), [i, bytes])) !== 1) {
      throw new RangeError(`list assignment index ${i} out of range`);
    }
  }

  /**
   * Appends one item.
   * @throws {SerializationError} for a value the codec refuses. @throws {StateError} after shutdown.
   */
  async append(value: V): Promise<void> {
    await this.call(LIST_PUSH, this.#keys(), [encodeValue(value, "list item")]);
  }

  /**
   * Appends every item of `items` (an iterable, an async iterable, or
   * another list proxy, read first), in one atomic step.
   *
   * @throws {TypeError} for something that is not iterable.
   * @throws {SerializationError} for an item the codec refuses (nothing is appended).
   * @throws {StateError} after shutdown.
   */
  async extend(items: Iterable<V> | AsyncIterable<V>): Promise<void> {
    let source: unknown = items;
    if (items instanceof ListProxy) {
      source = await items.toArray();
    } else if (items !== null && typeof items === "object" && Symbol.asyncIterator in items) {
      const collected: V[] = [];
      for await (const item of items as AsyncIterable<V>) collected.push(item);
      source = collected;
    }
    const encoded = encodeItems(source, "extend");
    if (encoded.length > 0) await this.call(LIST_PUSH, this.#keys(), encoded);
  }

  /**
   * Removes and resolves the item at `i` (default: the last).
   * @throws {RangeError} for an empty list or an index out of range. @throws {StateError} after shutdown.
   */
  async pop(i = -1): Promise<V> {
    checkIndex(i, "index");
    const [code, raw] = await this.call<[number, Uint8Array?]>(LIST_POP, this.#keys(), [i], true);
    if (code === 0) throw new RangeError("pop from empty list");
    if (code === 1) throw new RangeError(`pop index ${i} out of range`);
    return decode(raw!) as V;
  }

  /**
   * Inserts `value` before index `i` (clamped as Python's `list.insert`:
   * past the end appends, far negative prepends).
   * @throws {TypeError|RangeError} for an index that is not an integer.
   * @throws {SerializationError} for a value the codec refuses. @throws {StateError} after shutdown.
   */
  async insert(i: number, value: V): Promise<void> {
    checkIndex(i, "index");
    await this.call(LIST_INSERT, this.#keys(), [i, encodeValue(value, `list[${i}]`)]);
  }

  /**
   * Removes the first item equal to `value` (equal encoded bytes).
   * @throws {RangeError} when no item is equal (Python's `ValueError`). @throws {StateError} after shutdown.
   */
  async remove(value: V): Promise<void> {
    if ((await this.call<number>(LIST_REMOVE, this.#keys(), [encodeValue(value, "value")])) !== 1) {
      throw new RangeError("list.remove(x): x not in list");
    }
  }

  /**
   * The index of the first item equal to `value` within `[start, end)`
   * (Python slice bounds).
   * @throws {RangeError} when no item there is equal (Python's `ValueError`). @throws {StateError} after shutdown.
   */
  async index(value: V, start?: number, end?: number): Promise<number> {
    const args = [encodeValue(value, "value"), checkBound(start, "start"), checkBound(end, "end")];
    const at = await this.call<number>(LIST_INDEX, this.#keys(), args);
    if (at < 0) throw new RangeError("list.index(x): x not in list");
    return at;
  }

  /** How many items equal `value` (equal encoded bytes). @throws {StateError} after shutdown. */
  async count(value: V): Promise<number> {
    return await this.call<number>(LIST_COUNT, this.#keys(), [encodeValue(value, "value")]);
  }

  /** The number of items now. @throws {StateError} after shutdown. */
  async length(): Promise<number> {
    return await this.call<number>(LIST_LENGTH, this.#keys(), []);
  }

  /**
   * The items in `[start, end)`, clamped as Python's slices (negative
   * bounds count from the end; bounds past the end are the end).
   * @throws {TypeError|RangeError} for a bound that is not an integer. @throws {StateError} after shutdown.
   */
  async slice(start?: number, end?: number): Promise<V[]> {
    const args = [checkBound(start, "start"), checkBound(end, "end")];
    const raw = await this.call<Uint8Array[]>(LIST_SLICE, this.#keys(), args, true);
    return raw.map((b) => decode(b) as V);
  }

  /** A copy of every item. @throws {StateError} after shutdown. */
  toArray(): Promise<V[]> {
    return this.slice();
  }

  /** Removes every item. @throws {StateError} after shutdown. */
  async clear(): Promise<void> {
    await this.call(LIST_CLEAR, this.#keys(), []);
  }

  /** Reads the live list one index at a time until an index is past the end. */
  async *[Symbol.asyncIterator](): AsyncIterator<V> {
    for (let i = 0; ; i++) {
      const raw = await this.call<Uint8Array | null>(LIST_GET, this.#keys(), [i], true);
      if (raw === null) return;
      yield decode(raw) as V;
    }
  }
}

registerStateHandle("list", ListProxy, (l) => l.shippedOptions(), (r) => new ListProxy(PROXY_GATE, r));
