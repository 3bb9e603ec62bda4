/**
 * The registry of handle classes (Lock, Queue, Value, …) the codec ships as
 * small tagged records. Filled by `registerHandle` (re-exported from
 * `codec.ts`); read by the writer and the reader.
 *
 * @module
 */

/** How one handle class travels. */
export interface HandleCodec {
  readonly kind: string;
  readonly cls: abstract new (...args: never[]) => object;
  readonly toRecord: (handle: never) => unknown;
  readonly fromRecord: (record: unknown) => object;
}

const byKind = new Map<string, HandleCodec>();
const byProto = new Map<object, HandleCodec>();

/**
 * Registers a handle class: instances of `cls` (and of its subclasses, unless
 * those are registered themselves) travel as `{ kind, record: toRecord(h) }`
 * and are rebuilt in the receiving process by `fromRecord(record)`.
 * `toRecord` should return plain data (objects, arrays, strings, numbers…).
 * Registering the same class again under the same kind replaces its
 * functions (module reloads in tests); a kind already used by another class
 * is refused.
 *
 * @example
 * ```ts
 * import { registerHandle, encode, decode } from "./src/task/codec.ts";
 * class Ticket { constructor(readonly no: number) {} }
 * registerHandle("doc.ticket", Ticket, (t) => ({ no: t.no }), (r) => new Ticket((r as { no: number }).no));
 * const back = decode(encode(new Ticket(7))) as Ticket;
 * console.assert(back instanceof Ticket && back.no === 7);
 * ```
 * @throws {TypeError} if `kind` is not a non-empty string, `cls`, `toRecord`
 *   or `fromRecord` is not a function, or `kind` is registered to another class.
 */
export function registerHandle<T extends object>(
  kind: string,
  cls: abstract new (...args: never[]) => T,
  toRecord: (handle: T) => unknown,
  fromRecord: (record: unknown) => T,
): void {
  if (typeof kind !== "string" || kind.length === 0) throw new TypeError("registerHandle: kind must be a non-empty string");
  if (typeof cls !== "function" || typeof cls.prototype !== "object" || cls.prototype === null) {
    throw new TypeError(`registerHandle(${JSON.stringify(kind)}): cls must be a class`);
  }
  if (typeof toRecord !== "function") throw new TypeError(`registerHandle(${JSON.stringify(kind)}): toRecord must be a function`);
  if (typeof fromRecord !== "function") throw new TypeError(`registerHandle(${JSON.stringify(kind)}): fromRecord must be a function`);
  const existing = byKind.get(kind);
  if (existing !== undefined && existing.cls !== cls) {
    throw new TypeError(`registerHandle: kind ${JSON.stringify(kind)} is already registered for class ${existing.cls.name || "(anonymous)"}`);
  }
  const other = byProto.get(cls.prototype);
  if (other !== undefined && other.kind !== kind) {
    throw new TypeError(`registerHandle: class ${cls.name || "(anonymous)"} is already registered as ${JSON.stringify(other.kind)}`);
  }
  const codec: HandleCodec = { kind, cls, toRecord: toRecord as (handle: never) => unknown, fromRecord };
  byKind.set(kind, codec);
  byProto.set(cls.prototype, codec);
}

/** The codec for an object whose prototype is `proto`: the nearest registered class on its chain. */
export function handleForProto(proto: object | null): HandleCodec | undefined {
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const h = byProto.get(p);
    if (h !== undefined) return h;
  }
  return undefined;
}

/** The codec registered under `kind`, if any. */
export function handleForKind(kind: string): HandleCodec | undefined {
  return byKind.get(kind);
}

/** The kinds registered so far (for error messages). */
export function handleKinds(): string[] {
  return [...byKind.keys()];
}
