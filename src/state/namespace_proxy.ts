/**
 * `NamespaceProxy`: a Manager's shared namespace (Python's
 * `manager.Namespace()`), a set of named values in Redis.
 *
 * @module
 */
import { decode } from "../task/codec.ts";
import { type HandleRecord, registerStateHandle } from "./handle.ts";
import { encodeValue, fieldOf, keyOf, ManagedProxy, PROXY_GATE } from "./dict_proxy.ts";
import { DICT_DELETE, DICT_GET, DICT_HAS, DICT_ITEMS, DICT_UPDATE } from "./lua/manager.ts";
import { show } from "../validate.ts";

function checkName(name: unknown): string {
  if (typeof name !== "string") throw new TypeError(`a Namespace name must be a string, got ${show(name)}`);
  if (name === "") throw new TypeError("a Namespace name must not be empty");
  return fieldOf(name, "Namespace name");
}

/**
 * Named values shared through Redis, made by `manager.Namespace()`
 * (Python's `Namespace` proxy, with `n.x = 1` written `await n.set("x", 1)`).
 * Values go through the codec; each call is atomic.
 *
 * Unlike Python, a name starting with `_` is shared like any other (in
 * Python such attributes stay on the local proxy object, because the proxy
 * keeps its own internals there; a method-based API has no such clash).
 * A missing name reads as `undefined`; {@link has} tells them apart from a
 * stored `undefined`.
 *
 * @example
 * ```ts
 * import { Manager } from "./mod.ts";
 * await using manager = await new Manager().start();
 * const ns = manager.Namespace({ name: "Bob" });
 * await ns.set("job", "Builder");
 * console.assert(await ns.get("job") === "Builder");
 * await ns.delete("job");
 * console.assert(!(await ns.has("job")));
 * console.assert(JSON.stringify(await ns.toObject()) === '{"name":"Bob"}');
 * ```
 */
export class NamespaceProxy extends ManagedProxy {
  /** @internal Made by `Manager.Namespace()`; `new NamespaceProxy()` is a TypeError. */
  constructor(gate: typeof PROXY_GATE, record: HandleRecord) {
    super("namespace", gate, record);
  }

  #keys(): string[] {
    return [this.key("data"), this.key("order"), this.readyKey(), this.tombKey()];
  }

  /**
   * The value of `name`, or `undefined` if it was never set (or was deleted).
   * @throws {TypeError} for a name that is not a non-empty string. @throws {StateError} after shutdown.
   */
  async get<T = unknown>(name: string): Promise<T | undefined> {
    const raw = await this.call<Uint8Array | null>(DICT_GET, this.#keys(), [checkName(name)], true);
    return raw === null ? undefined : decode(raw) as T;
  }

  /**
   * Sets `name` to `value`.
   * @throws {TypeError} for a bad name. @throws {SerializationError} for a value the codec refuses.
   * @throws {StateError} after shutdown.
   */
  async set(name: string, value: unknown): Promise<void> {
    const field = checkName(name);
    await this.call(DICT_UPDATE, this.#keys(), [field, encodeValue(value, `namespace.${name}`)]);
  }

  /**
   * Removes `name`; resolves whether it was set.
   * @throws {TypeError} for a bad name. @throws {StateError} after shutdown.
   */
  async delete(name: string): Promise<boolean> {
    return (await this.call<number>(DICT_DELETE, this.#keys(), [checkName(name)])) === 1;
  }

  /** Whether `name` is set. @throws {TypeError} for a bad name. @throws {StateError} after shutdown. */
  async has(name: string): Promise<boolean> {
    return (await this.call<number>(DICT_HAS, this.#keys(), [checkName(name)])) === 1;
  }

  /** Every name and value, in the order they were first set (a copy). @throws {StateError} after shutdown. */
  async toObject(): Promise<Record<string, unknown>> {
    const flat = await this.call<Uint8Array[]>(DICT_ITEMS, this.#keys(), ["kv"], true);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < flat.length; i += 2) {
      Object.defineProperty(out, String(keyOf(flat[i])), { value: decode(flat[i + 1]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

registerStateHandle("namespace", NamespaceProxy, (n) => n.shippedOptions(), (r) => new NamespaceProxy(PROXY_GATE, r));
