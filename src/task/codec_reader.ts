/**
 * The decoding half of the codec: cbor-x's decoder (fast, hardened against
 * truncated and oversized input, and it compiles a reader per record shape;
 * loaded on first use, see `cbor_decoder.ts`) plus decoders for skypool's
 * tags.
 *
 * @module
 */
import { SerializationError } from "../errors.ts";
import {
  MAGIC_BYTES,
  MAGIC_PLAIN_LAST_BYTE,
  Shell,
  T_ARRAYBUFFER,
  T_BIGINT,
  T_DATE,
  T_ERROR,
  T_GRAPH,
  T_HANDLE,
  T_MAGIC_V1,
  T_MAGIC_V1_PLAIN,
  T_MAP,
  T_NULL_OBJECT,
  T_OBJECT,
  T_REF,
  T_REGEXP,
  T_SET,
  T_SHELL,
  T_STRING,
  T_TYPED,
  T_WTF16,
  TYPED_CODES,
  VIEW_MIN_BYTES,
} from "./codec_tags.ts";
import { createError, fillError, headerFrom } from "./codec_errors.ts";
import { handleForKind, handleKinds } from "./codec_handles.ts";
import { cborDecoder, defineTag } from "./cbor_decoder.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

type TypedCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
};

/** Type code → constructor (`undefined` where this runtime lacks the class). */
const TYPED_CTORS: (TypedCtor | undefined)[] = [];
for (const [name, code] of Object.entries(TYPED_CODES)) {
  if (name === "DataView" || name === "Buffer") continue;
  TYPED_CTORS[code] = (globalThis as Record<string, unknown>)[name] as TypedCtor | undefined;
}
const TYPED_NAMES: string[] = [];
for (const [name, code] of Object.entries(TYPED_CODES)) TYPED_NAMES[code] = name;

function malformed(what: string): never {
  throw new SerializationError(`cannot decode: malformed ${what}`);
}

/** A copy of `bytes` in its own ArrayBuffer (never Node's `Buffer#slice`, which is a view). */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

function asBytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) malformed(what);
  return v;
}

function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) malformed(what);
  return v;
}

/** Assigns `[k0, v0, …]` to `target` (`__proto__` as an own property, never as the prototype). */
function assignEntries(target: Record<string, unknown>, entries: unknown[]): void {
  if ((entries.length & 1) !== 0) malformed("object entries");
  for (let i = 0; i < entries.length; i += 2) {
    const key = entries[i];
    if (typeof key !== "string") malformed("object key");
    if (key === "__proto__") {
      Object.defineProperty(target, key, { value: entries[i + 1], writable: true, enumerable: true, configurable: true });
    } else target[key] = entries[i + 1];
  }
}

function fillMap(m: Map<unknown, unknown>, entries: unknown[]): void {
  if ((entries.length & 1) !== 0) malformed("Map entries");
  for (let i = 0; i < entries.length; i += 2) m.set(entries[i], entries[i + 1]);
}

function fillSet(s: Set<unknown>, values: unknown[]): void {
  for (let i = 0; i < values.length; i++) s.add(values[i]);
}

function typed(content: unknown): unknown {
  const a = asArray(content, "typed array");
  if (a.length !== 3) malformed("typed array");
  const code = a[0];
  const bytes = asBytes(a[2], "typed array");
  if (code === TYPED_CODES.Buffer) return nodeBuffer().from(bytes);
  if (code === TYPED_CODES.DataView) return new DataView(copyBytes(bytes).buffer);
  const Ctor = typeof code === "number" ? TYPED_CTORS[code] : undefined;
  if (Ctor === undefined) {
    const name = typeof code === "number" ? TYPED_NAMES[code] : undefined;
    if (name !== undefined) throw new SerializationError(`cannot decode: ${name} does not exist in this runtime`);
    malformed("typed array");
  }
  const size = Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) malformed("typed array");
  // Large, aligned payloads are views of the input (no copy); others are copied,
  // misaligned ones because a typed array view must be aligned, small ones so
  // they do not keep a whole batch buffer alive.
  if (bytes.byteLength >= VIEW_MIN_BYTES && bytes.byteOffset % size === 0) {
    return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
  }
  return new Ctor(copyBytes(bytes).buffer, 0, bytes.byteLength / size);
}

function wtf16(content: unknown): string {
  const bytes = asBytes(content, "string");
  if ((bytes.byteLength & 1) !== 0) malformed("string");
  let out = "";
  const CHUNK = 8192;
  const units = new Uint16Array(Math.min(CHUNK, bytes.byteLength >> 1));
  for (let i = 0; i < bytes.byteLength; i += CHUNK * 2) {
    const end = Math.min(bytes.byteLength, i + CHUNK * 2);
    let n = 0;
    for (let j = i; j < end; j += 2) units[n++] = bytes[j] | (bytes[j + 1] << 8);
    out += String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
  }
  return out;
}

function handle(content: unknown): unknown {
  const a = asArray(content, "handle");
  const kind = a[0];
  if (a.length !== 2 || typeof kind !== "string") malformed("handle");
  const codec = handleForKind(kind);
  if (codec === undefined) {
    const known = handleKinds();
    throw new SerializationError(
      `cannot decode a handle of unknown kind ${JSON.stringify(kind)} ` +
        `(registered: ${known.length > 0 ? known.join(", ") : "none"}; import the module that defines it before decoding)`,
    );
  }
  return codec.fromRecord(a[1]);
}

function error(content: unknown): Error {
  const a = asArray(content, "error");
  if (a.length !== 9 || typeof a[5] !== "boolean" || !Array.isArray(a[7])) malformed("error");
  const h = headerFrom(a, 0);
  const err = createError(h);
  fillError(err, h.kind, a[5], a[6], a[7], a[8]);
  return err;
}

// ---------------------------------------------------------------------------
// Graphs: shells are created (and numbered) as they are read, before any body.

interface Graph {
  objects: object[];
  kinds: number[];
  /** For error shells, the error kind (`ErrorKind`); 0 otherwise. */
  errorKinds: number[];
}
let graph: Graph | null = null;

function shell(content: unknown): object {
  if (graph === null) malformed("shell outside a graph");
  const a = asArray(content, "shell");
  const kind = a[0];
  let obj: object;
  let errorKind = 0;
  switch (kind) {
    case Shell.Object:
      obj = {};
      break;
    case Shell.NullObject:
      obj = Object.create(null);
      break;
    case Shell.Array:
      obj = [];
      break;
    case Shell.Map:
      obj = new Map();
      break;
    case Shell.Set:
      obj = new Set();
      break;
    case Shell.Error:
      if (a.length !== 6) malformed("error shell");
      {
        const h = headerFrom(a, 1);
        obj = createError(h);
        errorKind = h.kind;
      }
      break;
    case Shell.Leaf:
      if (a.length !== 2 || typeof a[1] !== "object" || a[1] === null) malformed("shell");
      obj = a[1];
      break;
    default:
      malformed("shell");
  }
  graph.objects.push(obj);
  graph.kinds.push(kind);
  graph.errorKinds.push(errorKind);
  return obj;
}

function ref(id: unknown): object {
  if (graph === null) malformed("reference outside a graph");
  if (typeof id !== "number" || !(id < graph.objects.length)) malformed("reference");
  return graph.objects[id];
}

function fill(obj: object, kind: number, errorKind: number, body: unknown): void {
  switch (kind) {
    case Shell.Object:
    case Shell.NullObject:
      assignEntries(obj as Record<string, unknown>, asArray(body, "object body"));
      return;
    case Shell.Array: {
      const items = asArray(body, "array body");
      const a = obj as unknown[];
      for (let i = 0; i < items.length; i++) a.push(items[i]);
      return;
    }
    case Shell.Map:
      fillMap(obj as Map<unknown, unknown>, asArray(body, "Map body"));
      return;
    case Shell.Set:
      fillSet(obj as Set<unknown>, asArray(body, "Set body"));
      return;
    case Shell.Error: {
      const b = asArray(body, "error body");
      if (b.length !== 4 || typeof b[0] !== "boolean" || !Array.isArray(b[2])) malformed("error body");
      fillError(obj as Error, errorKind, b[0], b[1], b[2], b[3]);
      return;
    }
  }
}

function readGraph(read: () => unknown): unknown {
  const outer = graph;
  const g: Graph = { objects: [], kinds: [], errorKinds: [] };
  graph = g;
  try {
    const content = asArray(read(), "graph");
    if (content.length !== 3) malformed("graph");
    const shells = asArray(content[0], "graph");
    const bodies = asArray(content[1], "graph");
    if (shells.length !== g.objects.length || bodies.length !== g.objects.length) malformed("graph");
    for (let i = 0; i < g.objects.length; i++) fill(g.objects[i], g.kinds[i], g.errorKinds[i], bodies[i]);
    return content[2];
  } finally {
    graph = outer;
  }
}
readGraph.handlesRead = true;

// ---------------------------------------------------------------------------
// Registration with cbor-x (decoders only: skypool writes its own bytes).

const on = defineTag;

on(T_MAGIC_V1, (value: unknown) => value);
on(T_MAGIC_V1_PLAIN, (content: unknown) => {
  if (!Array.isArray(content) || content.length !== 1) malformed("message");
  return content[0];
});
on(T_BIGINT, (hex: unknown) => {
  if (typeof hex !== "string" || !/^-?[0-9a-f]+$/.test(hex)) malformed("bigint");
  return hex[0] === "-" ? -BigInt("0x" + hex.slice(1)) : BigInt("0x" + hex);
});
on(T_DATE, (ms: unknown) => {
  if (typeof ms !== "number") malformed("Date");
  return new Date(ms);
});
on(T_REGEXP, (content: unknown) => {
  const a = asArray(content, "RegExp");
  if (a.length !== 2 || typeof a[0] !== "string" || typeof a[1] !== "string") malformed("RegExp");
  try {
    return new RegExp(a[0], a[1]);
  } catch (err) {
    throw new SerializationError(`cannot decode: malformed RegExp (${(err as Error).message})`);
  }
});
on(T_MAP, (entries: unknown) => {
  const m = new Map();
  fillMap(m, asArray(entries, "Map"));
  return m;
});
on(T_SET, (values: unknown) => {
  const s = new Set();
  fillSet(s, asArray(values, "Set"));
  return s;
});
on(T_TYPED, typed);
on(T_ARRAYBUFFER, (bytes: unknown) => copyBytes(asBytes(bytes, "ArrayBuffer")).buffer);
on(T_ERROR, error);
on(T_HANDLE, handle);
on(T_OBJECT, (entries: unknown) => {
  const o: Record<string, unknown> = {};
  assignEntries(o, asArray(entries, "object"));
  return o;
});
on(T_NULL_OBJECT, (entries: unknown) => {
  const o = Object.create(null) as Record<string, unknown>;
  assignEntries(o, asArray(entries, "object"));
  return o;
});
on(T_WTF16, wtf16);
// ignoreBOM keeps a leading U+FEFF (it is part of the string); fatal refuses invalid UTF-8.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
on(T_STRING, (bytes: unknown) => {
  const b = asBytes(bytes, "string");
  try {
    return utf8.decode(b);
  } catch {
    malformed("string (invalid UTF-8)");
  }
});
on(T_GRAPH, readGraph as unknown as (content: never) => unknown);
on(T_SHELL, shell);
on(T_REF, ref);

/**
 * Reads one message written by `writeMessage`.
 * @throws {SerializationError} for anything else: another format, truncated
 *   or trailing bytes, malformed skypool records, unknown handle kinds.
 */
export function readMessage(bytes: Uint8Array): unknown {
  if (
    bytes.length < 3 || bytes[0] !== MAGIC_BYTES[0] || bytes[1] !== MAGIC_BYTES[1] ||
    (bytes[2] !== MAGIC_BYTES[2] && bytes[2] !== MAGIC_PLAIN_LAST_BYTE)
  ) {
    throw new SerializationError(
      bytes.length === 0 ? "cannot decode: no bytes" : "cannot decode: not a skypool message (wrong header)",
    );
  }
  const outer = graph;
  graph = null;
  try {
    return cborDecoder().decode(bytes);
  } catch (err) {
    if (err instanceof SerializationError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const truncated = (err as { incomplete?: boolean } | null)?.incomplete === true;
    throw new SerializationError(`cannot decode: ${truncated ? "truncated message" : message}`, { cause: err });
  } finally {
    graph = outer;
  }
}
