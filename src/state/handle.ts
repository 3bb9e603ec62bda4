/**
 * The shared base of every Redis-backed handle (Lock, Queue, Value, …):
 * a kind, an id, a lazily resolved {@link Location}, and the tagged record
 * the codec ships to workers.
 *
 * @module
 */
import { requireSigned, sign } from "../task/authkey.ts";
import { registerHandle } from "../task/codec.ts";
import { contextFor, defaultLocation, newId, type Location, type RedisContext } from "./redis.ts";

/**
 * What a handle travels as: where it lives, its id, and its own options
 * (in `opts`, kept small: numbers, strings, booleans, nested records).
 */
export interface HandleRecord {
  /** Redis URL (for the embedded server: `unix:///…/redis.sock`). */
  url: string;
  /** Key prefix. */
  prefix: string;
  /** Session (namespace) id. */
  session: string;
  /** The handle's id within its kind. */
  id: string;
  /** Per-kind options (a Semaphore's initial value, a Queue's maxsize…). */
  opts: Record<string, unknown>;
  /**
   * The authkey MAC of everything above and the kind (see
   * `src/task/authkey.ts`): a record is rebuilt into a handle only if it
   * verifies, so data written to Redis by someone without the key cannot
   * point a process at another server or hand it code (a Barrier action).
   */
  mac?: string;
}

/**
 * Base class of Redis-backed handles. Construction is synchronous and does
 * no I/O; the location is resolved on first use (which may start the
 * embedded redis-server), and the connection opens on the first command.
 *
 * @example
 * ```ts
 * import { StateHandle } from "./src/state/handle.ts";
 * class Counter extends StateHandle {
 *   constructor() { super("counter"); }
 * }
 * const c = new Counter();
 * console.assert(c.kind === "counter" && c.id.length > 0);
 * ```
 */
export abstract class StateHandle {
  /** The kind used in keys and codec records (`"lock"`, `"queue"`…). */
  readonly kind: string;
  /** Unique id of the shared object (the same in every process). */
  readonly id: string;
  #location?: Location;
  #ctx?: RedisContext;

  /**
   * @param kind the key kind.
   * @param from a record received from another process (or `undefined` for a new object).
   * @ignore
   */
  protected constructor(kind: string, from?: HandleRecord) {
    this.kind = kind;
    from ??= takePendingRecord();
    if (from !== undefined) {
      this.id = from.id;
      this.#location = { url: from.url, prefix: from.prefix, session: from.session };
    } else {
      this.id = newId();
    }
  }

  /**
   * Where this object lives; resolved on first access.
   * @throws {SkypoolError} when no Redis is configured and none can be started.
   */
  get location(): Location {
    this.#location ??= defaultLocation();
    return this.#location;
  }

  /**
   * The context (namespace + connection) of this handle. @throws {SkypoolError} as {@link location}.
   * @ignore
   */
  protected get ctx(): RedisContext {
    this.#ctx ??= contextFor(this.location);
    return this.#ctx;
  }

  /**
   * This handle's key, or a sub-key (`…:{kind}:{id}:{sub}`).
   * @ignore
   */
  protected key(sub?: string): string {
    return this.ctx.key(this.kind, this.id, sub);
  }

  /**
   * The record the codec ships; `opts` are the subclass's options.
   * @ignore
   */
  protected toHandleRecord(opts: Record<string, unknown> = {}): HandleRecord {
    const { url, prefix, session } = this.location;
    return { url, prefix, session, id: this.id, opts };
  }
}

let pending: HandleRecord | undefined;

function takePendingRecord(): HandleRecord | undefined {
  const r = pending;
  pending = undefined;
  return r;
}

/**
 * Builds a handle from a record through its ordinary public constructor:
 * the first {@link StateHandle} constructed inside `make` adopts the
 * record's id and location instead of making new ones. This keeps public
 * constructors free of internal parameters.
 *
 * @example
 * ```ts
 * import { StateHandle, restoreHandle } from "./src/state/handle.ts";
 * class Flag extends StateHandle { constructor() { super("flag"); } }
 * const rec = { url: "redis://127.0.0.1:6379", prefix: "p", session: "s", id: "abc", opts: {} };
 * console.assert(restoreHandle(rec, () => new Flag()).id === "abc");
 * ```
 */
export function restoreHandle<T extends StateHandle>(record: HandleRecord, make: () => T): T {
  const saved = pending;
  pending = record;
  try {
    return make();
  } finally {
    pending = saved;
  }
}

const restorers = new Map<string, (record: HandleRecord) => StateHandle>();

/**
 * Rebuilds a handle of a registered kind from its record (what the codec
 * does; also used to pass handles to test child processes as JSON).
 *
 * @throws {TypeError} for an unknown kind or a malformed record.
 * @throws {SerializationError} for a record without a valid authkey MAC
 *   (forged, changed, or made by a process with another authkey).
 */
export function handleFromRecord(kind: string, record: unknown): StateHandle {
  const restore = restorers.get(kind);
  if (restore === undefined) throw new TypeError(`unknown handle kind ${JSON.stringify(kind)}`);
  return restore(checkRecord(kind, record));
}

/** The signed fields of a record of `kind` (opts as JSON: plain data, in a stable key order). */
function signedFields(record: HandleRecord): [string, string, string, string, string] {
  return [record.url, record.prefix, record.session, record.id, JSON.stringify(record.opts)];
}

/** The record of a handle (what the codec ships), for a registered kind. */
export function handleRecord(handle: StateHandle): HandleRecord {
  const entry = recorders.get(handle.kind);
  if (entry === undefined) throw new TypeError(`handle kind ${JSON.stringify(handle.kind)} is not registered`);
  return entry(handle);
}

const recorders = new Map<string, (handle: StateHandle) => HandleRecord>();

/**
 * Registers a handle class with the codec under `kind`, so that instances
 * inside task arguments, results or queue items arrive in another process
 * connected to the same Redis.
 *
 * @param toOpts the subclass options to ship.
 * @param fromRecord rebuilds an instance from a record.
 * @throws {TypeError} from the codec for a kind registered twice.
 * @example
 * ```ts
 * import { StateHandle, registerStateHandle, type HandleRecord } from "./src/state/handle.ts";
 * class Flag extends StateHandle {
 *   constructor(from?: HandleRecord) { super("flag", from); }
 *   record() { return this.toHandleRecord(); }
 * }
 * registerStateHandle("doc.flag", Flag, () => ({}), (r) => new Flag(r));
 * ```
 */
export function registerStateHandle<T extends StateHandle>(
  kind: string,
  cls: abstract new (...args: never[]) => T,
  toOpts: (handle: T) => Record<string, unknown>,
  fromRecord: (record: HandleRecord) => T,
): void {
  const record = (handle: T) => {
    const r = (handle as unknown as { toHandleRecord(o: Record<string, unknown>): HandleRecord }).toHandleRecord(toOpts(handle));
    r.mac = sign(`handle:${kind}`, signedFields(r));
    return r;
  };
  recorders.set(kind, record as (handle: StateHandle) => HandleRecord);
  restorers.set(kind, fromRecord as (record: HandleRecord) => StateHandle);
  registerHandle<T>(kind, cls, record, (r) => fromRecord(checkRecord(kind, r)));
}

/**
 * A well-formed record whose MAC verifies. Nothing in it is used before
 * this: not its URL (no connection), not its options (no Barrier action).
 */
function checkRecord(kind: string, record: unknown): HandleRecord {
  const r = record as HandleRecord;
  if (
    r === null || typeof r !== "object" || typeof r.url !== "string" || typeof r.prefix !== "string" ||
    typeof r.session !== "string" || typeof r.id !== "string" ||
    (r.opts !== undefined && (r.opts === null || typeof r.opts !== "object"))
  ) {
    throw new TypeError(`malformed ${kind} handle record`);
  }
  r.opts ??= {};
  requireSigned(`handle:${kind}`, signedFields(r), r.mac, `a ${kind} handle`);
  return r;
}
