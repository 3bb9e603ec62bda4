/**
 * The encoding half of the codec: turns a value into skypool's CBOR.
 *
 * Why not cbor-x's own encoder: skypool must refuse what it cannot carry
 * (functions, class instances…) with the path to the value, keep shared
 * references and cycles, and still beat `JSON.stringify`. cbor-x either
 * writes class instances as plain objects (plain mode) or tracks every object
 * in a Map of per-object records (`structuredClone` mode, 2–3× slower), and
 * a separate validating pre-pass costs as much as the encode itself. So this
 * writer does everything in one pass:
 *
 * - **Fast mode** (almost all data): one recursive walk that validates,
 *   writes, and puts objects into a `Set`. An object met twice (a shared
 *   reference) aborts the walk — cheaply, nothing is lost but the partial
 *   output — and the value is written again in graph mode. Only the plain
 *   arrays and objects that hold no object ("leaves") and the other objects
 *   (Dates, Maps, handles…) go into the `Set`: a container reached twice
 *   reaches its leaves twice, so that suffices, and it halves the `Set`,
 *   whose inserts cost about 300 ns each on Node 20 (a table row with a
 *   nested array costs JSON.stringify about 600 ns). A cycle has no leaf: it
 *   runs into the depth limit, and the walk is redone in graph mode, which
 *   finds it. (The one sharing this misses is a plain container whose getters
 *   return new objects on each read: it arrives as two equal copies.)
 * - **Graph mode**: a counting pass finds the objects referenced more than
 *   once; they are written first as empty "shells", then their contents
 *   ("bodies", which refer to shells by index), then the root value. The
 *   reader creates every shell before reading any body, so cycles through
 *   any container (arrays, objects, Maps, Sets, errors) come back intact.
 * - Plain objects use cbor-x's record extension: the keys of each object
 *   shape are written once per message, then only the values. Shapes are
 *   found with a transition tree kept across calls, so a shape costs one
 *   string comparison per key.
 * - Byte payloads (typed arrays, `ArrayBuffer`…) are one `set` (memcpy)
 *   into the output, padded so that large ones start 8-byte aligned; a large
 *   output is handed out without a final copy.
 *
 * Anything the writer cannot carry throws the UNSUPPORTED signal; the caller
 * (`codec.ts`) then walks the value again slowly (`codec_path.ts`) to name
 * the path — errors are rare, so only they pay for path bookkeeping.
 *
 * The output is standard CBOR that cbor-x's decoder reads, plus skypool's
 * tags (`codec_tags.ts`), which `codec_reader.ts` registers.
 *
 * @module
 */
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
import { aggregateErrors, errorFieldKeys, errorHeader, hasOwnCause } from "./codec_errors.ts";
import { handleForProto } from "./codec_handles.ts";
import { eagerBufferPrototype, isBufferPrototype, nodeBuffer } from "../runtime/node_buffer.ts";

/** Thrown (as a value, never shown) when the data has a shared reference or a cycle. */
export const SHARED_SIGNAL: unique symbol = Symbol("skypool.codec.shared");
/** Thrown (as a value, never shown) when the data is nested deeper than MAX_DEPTH. */
export const DEPTH_SIGNAL: unique symbol = Symbol("skypool.codec.depth");
/**
 * How deeply containers may nest. Recursion is the fast way to walk a value,
 * and the reader (cbor-x) recurses too, with larger frames; a fixed limit,
 * well inside what both runtimes' default stacks hold even before the code
 * is optimised, makes "too deep" a clear error at the sender rather than a
 * stack overflow in a worker (Python's pickle has the same limit).
 */
export const MAX_DEPTH = 1000;
/** Thrown (as a value, never shown) when the data holds something the codec refuses. */
export const UNSUPPORTED_SIGNAL: unique symbol = Symbol("skypool.codec.unsupported");

const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;

/** What kind of special object a prototype stands for (see `writeSpecial`). */
const enumSpecial = { Date: 1, Map: 2, Set: 3, RegExp: 4, ArrayBuffer: 5, Typed: 6 } as const;
const SPECIAL = new Map<object, number>([
  [Date.prototype, enumSpecial.Date],
  [Map.prototype, enumSpecial.Map],
  [Set.prototype, enumSpecial.Set],
  [RegExp.prototype, enumSpecial.RegExp],
  [ArrayBuffer.prototype, enumSpecial.ArrayBuffer],
]);
/** Typed array (and DataView, Buffer) prototype → type code. */
const TYPED = new Map<object, number>();
function addTyped(proto: object, code: number): void {
  TYPED.set(proto, code);
  SPECIAL.set(proto, enumSpecial.Typed);
}
for (const [name, code] of Object.entries(TYPED_CODES)) {
  // Not even read for Buffer: Deno's `Buffer` global is a getter that loads node:buffer.
  const ctor = name === "Buffer" ? undefined : (globalThis as Record<string, unknown>)[name];
  if (typeof ctor === "function") addTyped(ctor.prototype as object, code);
}
// Buffer's prototype now where it is free (Node); on Deno when one first shows up (see specialKind).
let bufferKnown = eagerBufferPrototype !== undefined;
if (eagerBufferPrototype !== undefined) addTyped(eagerBufferPrototype, TYPED_CODES.Buffer);

/**
 * What special object `proto` stands for, if any. A miss may be Deno's
 * first Buffer: loading the class at module load would cost every Deno
 * worker's start (see `runtime/node_buffer.ts`).
 */
function specialKind(proto: object): number | undefined {
  const kind = SPECIAL.get(proto);
  if (kind !== undefined || bufferKnown || !isBufferPrototype(proto)) return kind;
  bufferKnown = true;
  addTyped(proto, TYPED_CODES.Buffer);
  return enumSpecial.Typed;
}
const SAB: (new (n: number) => unknown) | undefined = (globalThis as { SharedArrayBuffer?: new (n: number) => unknown })
  .SharedArrayBuffer;

// ---------------------------------------------------------------------------
// Output buffer.

/** A working buffer up to this size is kept between calls (and the output copied out of it). */
const KEEP_BUFFER_MAX = 4 << 20;
const INITIAL_SIZE = 64 << 10;
/** Room guaranteed after `pos` at every `writeValue` entry (fixed-size items fit without a check). */
const SLACK = 32;

function allocate(size: number): Uint8Array {
  // Uninitialised memory: every byte handed out is written first, and zero-filling
  // a large buffer costs as much as the memcpy that fills it.
  if (eagerBufferPrototype === undefined) return new Uint8Array(size); // Deno's Buffer zero-fills too
  const b = nodeBuffer().allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, size);
}

let buf = allocate(INITIAL_SIZE);
let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
let pos = 0;
let safeEnd = buf.length - SLACK;

function grow(need: number): void {
  const want = pos + need + SLACK;
  let size = buf.length * 2;
  if (size < want) size = want + (want >> 3) + 4096;
  const next = allocate(size);
  next.set(buf.subarray(0, pos));
  buf = next;
  view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  safeEnd = size - SLACK;
}

function ensure(n: number): void {
  if (pos + n > buf.length - SLACK) grow(n);
}

/**
 * A copy of `buf[from, to)` in memory of its own. On Node, into uninitialised
 * memory: `slice` zero-fills a fresh allocation (calloc) whose pages a large
 * output then faults in, which took a fifth of the encode time of 10 000
 * table rows on Node 20, while malloc reuses freed memory. On Deno `slice`
 * measured faster (its `Buffer` is the Node-compatibility layer's).
 */
const copyOut: (from: number, to: number) => Uint8Array = typeof (globalThis as { Deno?: unknown }).Deno === "undefined"
  ? (from, to) => {
    const out = allocate(to - from);
    out.set(buf.subarray(from, to));
    return out;
  }
  : (from, to) => Uint8Array.prototype.slice.call(buf, from, to);

/** The bytes written from `from`, handed out without a copy when that wastes little. */
function takeOutput(from: number): Uint8Array {
  const size = buf.length;
  if (size > KEEP_BUFFER_MAX && pos >= size >> 1) {
    const out = buf.subarray(from, pos);
    buf = allocate(INITIAL_SIZE);
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    safeEnd = buf.length - SLACK;
    return out;
  }
  const out = copyOut(from, pos);
  if (size > KEEP_BUFFER_MAX) {
    buf = allocate(INITIAL_SIZE);
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    safeEnd = buf.length - SLACK;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Mode state.

/**
 * Fast mode: the objects met so far (null in graph mode), on Node as sets of
 * at most SEEN_SHARD objects: `seen` is filling, `seenFull` are full. One
 * large Set would be simpler, but Node 20's V8 puts a table of more than
 * 128 KiB in its large-object space, allocated afresh (its pages faulted in)
 * each time it grows: that made 10 000 inserts cost about 200 ns each
 * instead of 20. Checking a few full sets first costs a few ns each.
 */
let seen: Set<object> | null = null;
let seenFull: Set<object>[] = [];
/** Objects per set of `seen`: 4 096 entries is the largest V8 table below 128 KiB. */
const SEEN_SHARD = 4096;
/**
 * Past this many full sets, checking them all costs more than one large
 * table: `seen` then grows. None on Deno, whose V8 grows large tables about
 * as fast as small ones: there the extra lookups only cost (objects-encode
 * ×1.07–1.16 JSON with sets of 4 096, ×1.49–1.82 with one set).
 */
const MAX_SEEN_SHARDS = typeof (globalThis as { Deno?: unknown }).Deno === "undefined" ? 16 : 0;
/** Graph mode: shared object → shell index (null in fast mode). */
let sharedIds: Map<object, number> | null = null;
/** Objects entered so far in this message (a container that entered none holds no object). */
let objectCount = 0;
/** Containers open on the way down to the current value. */
let depth = 0;
/** Set while writing a handle record, whose objects are never graph members. */
let inRecord = 0;
/** Whether `Object.prototype` has enumerable properties (then `for…in` would see them). */
let polluted = false;
/**
 * The string bundle: ASCII strings of BUNDLE_MIN..63 characters are written
 * here (in order) and referenced from the value as cbor-x's tag 15 + length;
 * the bundle is appended to the message at the end. cbor-x's decoder then
 * turns the whole bundle into one string at once and slices it, instead of
 * decoding each mid-sized string with an array of char codes.
 */
let bundle = allocate(16 << 10);
let bundlePos = 0;
const BUNDLE_MIN = 16;

function growBundle(need: number): void {
  const next = allocate(Math.max(bundle.length * 2, bundlePos + need + 1024));
  next.set(bundle.subarray(0, bundlePos));
  bundle = next;
}

/** The value that made the writer throw UNSUPPORTED (for the caller's message). */
export let lastUnsupported: unknown = undefined;

// ---------------------------------------------------------------------------
// Record shapes.

interface Shape {
  readonly keys: string[];
  /** `__proto__` among the keys: records would turn it into a prototype. */
  readonly unsafe: boolean;
  /** Message (epoch) in which `id` was defined. */
  epoch: number;
  id: number;
}
interface ShapeNode {
  key: string | undefined;
  next: ShapeNode | undefined;
  more: Map<string, ShapeNode> | undefined;
  shape: Shape | undefined;
}
/** cbor-x reads record ids 0..0x1fff (tags 0xe000..0xffff). */
const MAX_SHAPES_PER_MESSAGE = 0x2000;
/** Objects with more keys are written as plain maps (they are rarely repeated). */
const MAX_RECORD_KEYS = 48;
/** The tree is dropped and rebuilt once it holds this many nodes. */
const MAX_NODES = 20_000;

function newNode(): ShapeNode {
  return { key: undefined, next: undefined, more: undefined, shape: undefined };
}
let shapeRoot = newNode();
let nodeCount = 0;
/** The current message's number; `epochCounter` only grows, so no two messages share one. */
let epoch = 0;
let epochCounter = 0;
let nextShapeId = 0;

function child(node: ShapeNode, key: string): ShapeNode {
  const c = newNode();
  nodeCount++;
  if (node.key === undefined) {
    node.key = key;
    node.next = c;
  } else {
    (node.more ??= new Map()).set(key, c);
  }
  return c;
}

// ---------------------------------------------------------------------------
// Primitive writers.

function head(major: number, n: number): void {
  if (n < 24) buf[pos++] = major | n;
  else if (n < 0x100) {
    buf[pos++] = major | 24;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = major | 25;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = major | 26;
    view.setUint32(pos, n);
    pos += 4;
  }
}

function tag(t: number): void {
  buf[pos++] = 0xd9;
  buf[pos++] = t >> 8;
  buf[pos++] = t & 0xff;
}

function writeNumber(v: number): void {
  if (v >>> 0 === v) {
    if (v !== 0 || 1 / v > 0) {
      head(0, v);
      return;
    }
  } else if (v >> 0 === v) {
    head(0x20, -1 - v);
    return;
  } else if (v < 0 && v >= -4294967296 && Math.floor(v) === v) {
    buf[pos++] = 0x3a;
    view.setUint32(pos, -1 - v);
    pos += 4;
    return;
  }
  buf[pos++] = 0xfb;
  view.setFloat64(pos, v);
  pos += 8;
}

const textEncoder = new TextEncoder();

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** `String#isWellFormed` (ES2024; O(1) for one-byte strings in V8), with a fallback for older runtimes. */
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);

function writeString(s: string): void {
  const len = s.length;
  if (len < 64) {
    if (pos + len * 3 + 5 > safeEnd) grow(len * 3 + 5);
    if (len >= BUNDLE_MIN) {
      if (bundlePos + len > bundle.length) growBundle(len);
      const bb = bundle;
      let q = bundlePos;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        bb[q++] = c;
      }
      if (i === len) {
        bundlePos = q;
        buf[pos++] = 0xcf;
        head(0, len);
        return;
      }
    }
    const start = pos;
    const b = buf;
    let p = start + (len < 24 ? 1 : 2);
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return writeShortUtf8(s, start);
      b[p++] = c;
    }
    if (len < 24) b[start] = 0x60 | len;
    else {
      b[start] = 0x78;
      b[start + 1] = len;
    }
    pos = p;
    return;
  }
  writeLongString(s);
}

/**
 * Text longer than 64 bytes travels as `T_STRING` bytes rather than a CBOR
 * text string: cbor-x decodes long text with a default `TextDecoder`, which
 * drops a leading U+FEFF (a silent change) and, on Node, runs at a fraction
 * of the speed of one created with `ignoreBOM`.
 */
const MAX_PLAIN_TEXT = 64;

/** A short string with non-ASCII characters (at most 63 UTF-16 units, so < 256 bytes). */
function writeShortUtf8(s: string, start: number): void {
  // Encoded after room for the longer header (tag + byte string), moved back if it fits the shorter one.
  const data = start + 5;
  let p = data;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) buf[p++] = c;
    else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) {
        pos = start;
        writeWtf16(s);
        return;
      }
      i++;
      c = 0x10000 + ((c & 0x3ff) << 10) + (d & 0x3ff);
      buf[p++] = 0xf0 | (c >> 18);
      buf[p++] = 0x80 | ((c >> 12) & 0x3f);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  const n = p - data;
  if (n > MAX_PLAIN_TEXT) {
    pos = start;
    tag(T_STRING);
    buf[pos++] = 0x58;
    buf[pos++] = n;
    pos = p;
    return;
  }
  // A 2-byte header even below 24 bytes: non-minimal, but well-formed CBOR.
  buf[start] = 0x78;
  buf[start + 1] = n;
  buf.copyWithin(start + 2, data, p);
  pos = start + 2 + n;
}

function writeLongString(s: string): void {
  if (!isWellFormed(s)) return writeWtf16(s);
  const max = s.length * 3;
  // The header size is fixed by the worst case so the text is encoded once, in place.
  const h = max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
  if (pos + max + h + 3 > safeEnd) grow(max + h + 3);
  tag(T_STRING);
  const written = textEncoder.encodeInto(s, buf.subarray(pos + h, pos + h + max)).written;
  if (h === 2) {
    buf[pos] = 0x58;
    buf[pos + 1] = written;
  } else if (h === 3) {
    buf[pos] = 0x59;
    buf[pos + 1] = written >> 8;
    buf[pos + 2] = written & 0xff;
  } else {
    buf[pos] = 0x5a;
    view.setUint32(pos + 1, written);
  }
  pos += h + written;
}

/** A string with lone surrogates, which UTF-8 cannot carry: its UTF-16 code units. */
function writeWtf16(s: string): void {
  const n = s.length * 2;
  ensure(n + 8);
  tag(T_WTF16);
  head(0x40, n);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    buf[pos++] = c & 0xff;
    buf[pos++] = c >> 8;
  }
}

const TWO_64 = 1n << 64n;

function writeBigInt(v: bigint): void {
  if (v >= 0n && v < TWO_64) {
    buf[pos++] = 0x1b;
    view.setBigUint64(pos, v);
    pos += 8;
  } else if (v < 0n && v >= -TWO_64) {
    buf[pos++] = 0x3b;
    view.setBigUint64(pos, -1n - v);
    pos += 8;
  } else {
    tag(T_BIGINT);
    writeString(v < 0n ? "-" + (-v).toString(16) : v.toString(16));
  }
}

/**
 * `padding, data`: two byte strings, the first sized so that the data of a
 * large payload starts on an 8-byte boundary (relative to the message start).
 */
function writePaddedBytes(bytes: Uint8Array): void {
  const len = bytes.byteLength;
  const h = len < 24 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
  ensure(len + h + 9);
  const pad = len >= VIEW_MIN_BYTES ? (8 - ((pos + 1 + h) & 7)) & 7 : 0;
  buf[pos++] = 0x40 | pad;
  for (let i = 0; i < pad; i++) buf[pos++] = 0;
  head(0x40, len);
  buf.set(bytes, pos);
  pos += len;
}

function writeByteString(bytes: Uint8Array): void {
  ensure(bytes.byteLength + 5);
  head(0x40, bytes.byteLength);
  buf.set(bytes, pos);
  pos += bytes.byteLength;
}

// ---------------------------------------------------------------------------
// Values.

function unsupported(v: unknown): never {
  lastUnsupported = v;
  throw UNSUPPORTED_SIGNAL;
}

function writeValue(v: unknown): void {
  if (pos > safeEnd) grow(SLACK);
  switch (typeof v) {
    case "string":
      writeString(v);
      return;
    case "number":
      writeNumber(v);
      return;
    case "boolean":
      buf[pos++] = v ? 0xf5 : 0xf4;
      return;
    case "object":
      if (v === null) buf[pos++] = 0xf6;
      else writeObject(v);
      return;
    case "undefined":
      buf[pos++] = 0xf7;
      return;
    case "bigint":
      writeBigInt(v);
      return;
    default:
      unsupported(v);
  }
}

/** Fast mode: adds `v` to `seen`, or throws SHARED_SIGNAL if it is there already. */
function see(v: object): void {
  const full = seenFull;
  for (let i = 0; i < full.length; i++) if (full[i].has(v)) throw SHARED_SIGNAL;
  const s = seen!;
  const n = s.size;
  s.add(v);
  if (s.size === n) throw SHARED_SIGNAL;
  if (n + 1 === SEEN_SHARD && full.length < MAX_SEEN_SHARDS) {
    full.push(s);
    seen = new Set();
  }
}

function writeObject(v: object): void {
  if (sharedIds !== null && inRecord === 0) {
    const id = sharedIds.get(v);
    if (id !== undefined) {
      tag(T_REF);
      head(0, id);
      return;
    }
  }
  if (++depth > MAX_DEPTH) throw DEPTH_SIGNAL;
  const proto = Object.getPrototypeOf(v);
  const before = ++objectCount;
  if (proto === OBJECT_PROTO) writePlain(v as Record<string, unknown>);
  else if (proto === ARRAY_PROTO && Array.isArray(v)) writeItems(v);
  else if (proto === null) {
    tag(T_NULL_OBJECT);
    writeEntries(v as Record<string, unknown>, Object.keys(v));
  } else {
    // Not a plain container: its contents may be made afresh on each visit (a handle's record), so it is tracked itself.
    if (seen !== null) see(v);
    writeSpecial(v, proto);
  }
  // A plain container is tracked only if it holds no object (see "Fast mode" above).
  if (seen !== null && objectCount === before && (proto === OBJECT_PROTO || proto === ARRAY_PROTO || proto === null)) see(v);
  depth--;
}

/**
 * An array's items. Unsigned integers below 2^16 (indexes, counts, the
 * items of most maps) are written in this loop rather than through
 * `writeValue`: until V8 has optimised the writer, as in a pool's first
 * maps, three calls an item cost more than the item, and one hot loop is
 * optimised (on stack) sooner than a chain of small functions
 * (bench/results/first_map_items.md). `head`'s one- to three-byte forms are
 * written out here for the same reason: calling it for each item measured
 * 10–20 % slower on Node and up to 1.7× on Deno's later passes.
 */
function writeItems(v: unknown[]): void {
  const n = v.length;
  head(0x80, n);
  for (let i = 0; i < n; i++) {
    const x = v[i];
    // `x >>> 0 === x` holds for -0 as well, which must keep its sign (writeNumber writes it as a float).
    if (typeof x === "number" && x >>> 0 === x && x < 0x10000 && pos <= safeEnd && (x !== 0 || 1 / x > 0)) {
      if (x < 24) buf[pos++] = x;
      else if (x < 0x100) {
        buf[pos++] = 24;
        buf[pos++] = x;
      } else {
        buf[pos++] = 25;
        buf[pos++] = x >> 8;
        buf[pos++] = x & 0xff;
      }
    } else writeValue(x);
  }
}

/** `[k0, v0, k1, v1, …]` of the given keys. */
function writeEntries(v: Record<string, unknown>, keys: string[]): void {
  ensure(8);
  head(0x80, keys.length * 2);
  for (let i = 0; i < keys.length; i++) {
    writeString(keys[i]);
    writeValue(v[keys[i]]);
  }
}

function writePlain(v: Record<string, unknown>): void {
  if (polluted) return writePlainSlow(v, Object.keys(v));
  let node: ShapeNode | undefined = shapeRoot;
  let n = 0;
  for (const k in v) {
    let c: ShapeNode | undefined = node.key === k ? node.next : node.more?.get(k);
    if (c === undefined) {
      if (n >= MAX_RECORD_KEYS || nodeCount >= MAX_NODES) {
        node = undefined;
        break;
      }
      c = child(node, k);
    }
    node = c;
    n++;
  }
  if (node === undefined) return writePlainSlow(v, Object.keys(v));
  if (n === 0) {
    buf[pos++] = 0xa0;
    return;
  }
  let shape = node.shape;
  if (shape === undefined) {
    const keys = Object.keys(v);
    shape = node.shape = { keys, unsafe: keys.includes("__proto__"), epoch: -1, id: 0 };
  }
  if (shape.unsafe) {
    tag(T_OBJECT);
    writeEntries(v, shape.keys);
    return;
  }
  if (shape.epoch === epoch) {
    const id = shape.id;
    buf[pos++] = 0xd9;
    buf[pos++] = 0xe0 | (id >> 8);
    buf[pos++] = id & 0xff;
    head(0x80, n);
  } else if (nextShapeId < MAX_SHAPES_PER_MESSAGE) {
    // First object of this shape in the message: cbor-x's inline record
    // definition, tag 0xdfff [0xe000 + id, [keys…], values…].
    const id = nextShapeId++;
    shape.epoch = epoch;
    shape.id = id;
    ensure(16);
    buf[pos++] = 0xd9;
    buf[pos++] = 0xdf;
    buf[pos++] = 0xff;
    head(0x80, n + 2);
    head(0, 0xe000 + id);
    head(0x80, n);
    const keys = shape.keys;
    for (let i = 0; i < n; i++) writeString(keys[i]);
  } else return writePlainSlow(v, shape.keys);
  for (const k in v) writeValue(v[k]);
}

/** A plain object as a CBOR map (too many keys or shapes for records). */
function writePlainSlow(v: Record<string, unknown>, keys: string[]): void {
  if (keys.includes("__proto__")) {
    tag(T_OBJECT);
    writeEntries(v, keys);
    return;
  }
  ensure(8);
  head(0xa0, keys.length);
  for (let i = 0; i < keys.length; i++) {
    writeString(keys[i]);
    writeValue(v[keys[i]]);
  }
}

function writeSpecial(v: object, proto: object): void {
  switch (specialKind(proto)) {
    case enumSpecial.Date:
      tag(T_DATE);
      writeNumber((v as Date).getTime());
      return;
    case enumSpecial.Map: {
      const m = v as Map<unknown, unknown>;
      tag(T_MAP);
      head(0x80, m.size * 2);
      for (const [key, value] of m) {
        writeValue(key);
        writeValue(value);
      }
      return;
    }
    case enumSpecial.Set: {
      const s = v as Set<unknown>;
      tag(T_SET);
      head(0x80, s.size);
      for (const value of s) writeValue(value);
      return;
    }
    case enumSpecial.RegExp:
      tag(T_REGEXP);
      buf[pos++] = 0x82;
      writeString((v as RegExp).source);
      writeString((v as RegExp).flags);
      return;
    case enumSpecial.ArrayBuffer:
      tag(T_ARRAYBUFFER);
      writeByteString(new Uint8Array(v as ArrayBuffer));
      return;
    case enumSpecial.Typed: {
      const ta = v as ArrayBufferView;
      if (SAB !== undefined && ta.buffer instanceof SAB) unsupported(v);
      tag(T_TYPED);
      buf[pos++] = 0x83;
      head(0, TYPED.get(proto)!);
      writePaddedBytes(new Uint8Array(ta.buffer, ta.byteOffset, ta.byteLength));
      return;
    }
  }
  if (v instanceof Error) return writeError(v);
  const h = handleForProto(proto);
  if (h === undefined) unsupported(v);
  const record = (h.toRecord as (x: object) => unknown)(v);
  tag(T_HANDLE);
  buf[pos++] = 0x82;
  writeString(h.kind);
  inRecord++;
  try {
    writeValue(record);
  } finally {
    inRecord--;
  }
}

function writeErrorHeader(err: Error): void {
  const h = errorHeader(err);
  head(0, h.kind);
  writeString(h.cls);
  writeString(h.name);
  writeString(h.message);
  if (h.stack === null) buf[pos++] = 0xf6;
  else writeString(h.stack);
}

function writeErrorBody(err: Error): void {
  if (hasOwnCause(err)) {
    buf[pos++] = 0xf5;
    writeValue((err as { cause?: unknown }).cause);
  } else {
    buf[pos++] = 0xf4;
    buf[pos++] = 0xf7;
  }
  writeEntries(err as unknown as Record<string, unknown>, errorFieldKeys(err));
  const errors = aggregateErrors(err);
  if (errors === null) buf[pos++] = 0xf6;
  else writeValue(errors);
}

/** `T_ERROR [kind, cls, name, message, stack, hasCause, cause, [fields…], errors|null]`. */
function writeError(err: Error): void {
  tag(T_ERROR);
  buf[pos++] = 0x89;
  writeErrorHeader(err);
  writeErrorBody(err);
}

// ---------------------------------------------------------------------------
// Graph mode.

/** Counts references to every object reachable from `v` (validating as it goes). */
function countRefs(v: unknown, counts: Map<object, number>): void {
  if (typeof v !== "object" || v === null) {
    if (typeof v === "function" || typeof v === "symbol") unsupported(v);
    return;
  }
  const c = counts.get(v);
  if (c !== undefined) {
    counts.set(v, c + 1);
    return;
  }
  counts.set(v, 1);
  if (++depth > MAX_DEPTH) throw DEPTH_SIGNAL;
  const proto = Object.getPrototypeOf(v);
  if (proto === OBJECT_PROTO || proto === null) {
    for (const k of Object.keys(v)) countRefs((v as Record<string, unknown>)[k], counts);
  } else if (proto === ARRAY_PROTO && Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) countRefs(v[i], counts);
  } else {
    const kind = specialKind(proto);
    if (kind === enumSpecial.Map) {
      for (const [key, value] of v as Map<unknown, unknown>) {
        countRefs(key, counts);
        countRefs(value, counts);
      }
    } else if (kind === enumSpecial.Set) {
      for (const value of v as Set<unknown>) countRefs(value, counts);
    } else if (kind === undefined && v instanceof Error) {
      if (hasOwnCause(v)) countRefs((v as { cause?: unknown }).cause, counts);
      for (const k of errorFieldKeys(v)) countRefs((v as unknown as Record<string, unknown>)[k], counts);
      const errors = aggregateErrors(v);
      if (errors !== null) countRefs(errors, counts);
    } else if (kind === undefined && handleForProto(proto) === undefined) {
      unsupported(v);
    }
  }
  depth--;
}

function shellKind(v: object): number {
  const proto = Object.getPrototypeOf(v);
  if (proto === OBJECT_PROTO) return Shell.Object;
  if (proto === null) return Shell.NullObject;
  if (proto === ARRAY_PROTO && Array.isArray(v)) return Shell.Array;
  const kind = specialKind(proto);
  if (kind === enumSpecial.Map) return Shell.Map;
  if (kind === enumSpecial.Set) return Shell.Set;
  if (kind === undefined && v instanceof Error) return Shell.Error;
  return Shell.Leaf;
}

function writeShell(v: object, kind: number): void {
  ensure(8);
  tag(T_SHELL);
  if (kind === Shell.Error) {
    buf[pos++] = 0x86;
    head(0, kind);
    writeErrorHeader(v as Error);
  } else if (kind === Shell.Leaf) {
    buf[pos++] = 0x82;
    head(0, kind);
    writeSpecial(v, Object.getPrototypeOf(v));
  } else {
    buf[pos++] = 0x81;
    head(0, kind);
  }
}

function writeBody(v: object, kind: number): void {
  ensure(8);
  switch (kind) {
    case Shell.Object:
    case Shell.NullObject:
      writeEntries(v as Record<string, unknown>, Object.keys(v));
      return;
    case Shell.Array: {
      const a = v as unknown[];
      head(0x80, a.length);
      for (let i = 0; i < a.length; i++) writeValue(a[i]);
      return;
    }
    case Shell.Map: {
      const m = v as Map<unknown, unknown>;
      head(0x80, m.size * 2);
      for (const [key, value] of m) {
        writeValue(key);
        writeValue(value);
      }
      return;
    }
    case Shell.Set: {
      const s = v as Set<unknown>;
      head(0x80, s.size);
      for (const value of s) writeValue(value);
      return;
    }
    case Shell.Error:
      buf[pos++] = 0x84;
      writeErrorBody(v as Error);
      return;
    default:
      buf[pos++] = 0xf6;
  }
}

function writeGraph(value: unknown): void {
  const counts = new Map<object, number>();
  countRefs(value, counts);
  const shared: object[] = [];
  sharedIds = new Map();
  for (const [obj, c] of counts) {
    if (c > 1) {
      sharedIds.set(obj, shared.length);
      shared.push(obj);
    }
  }
  const kinds = shared.map(shellKind);
  ensure(16);
  tag(T_GRAPH);
  buf[pos++] = 0x83;
  head(0x80, shared.length);
  for (let i = 0; i < shared.length; i++) writeShell(shared[i], kinds[i]);
  ensure(8);
  head(0x80, shared.length);
  for (let i = 0; i < shared.length; i++) writeBody(shared[i], kinds[i]);
  writeValue(value);
}

// ---------------------------------------------------------------------------
// Entry point.

let busy = false;

/**
 * Where the value starts: room for the longer header (magic 3 + bundle tag 3
 * + array 1 + offset 5). The shorter header (magic 3 + array 1) is written
 * right before the value, from byte 8, so the value sits at the same offset
 * modulo 8 from the message start either way, and payload padding computed
 * against the buffer holds for the message.
 */
const VALUE_START = 12;

function start(): void {
  pos = VALUE_START;
  bundlePos = 0;
  if (nodeCount >= MAX_NODES) {
    shapeRoot = newNode();
    nodeCount = 0;
  }
  epoch = ++epochCounter;
  nextShapeId = 0;
  inRecord = 0;
  depth = 0;
  objectCount = 0;
  lastUnsupported = undefined;
}

/** Writes the header and, if any string was bundled, the bundle; returns where the message starts. */
function finish(): number {
  if (bundlePos === 0) {
    buf[8] = MAGIC_BYTES[0];
    buf[9] = MAGIC_BYTES[1];
    buf[10] = MAGIC_PLAIN_LAST_BYTE;
    buf[11] = 0x81;
    return 8;
  }
  ensure(bundlePos + 8);
  const bundleAt = pos;
  // cbor-x reads two bundles: two-byte strings (none: skypool bundles ASCII only) and Latin-1.
  buf[pos++] = 0x60;
  head(0x60, bundlePos);
  buf.set(bundle.subarray(0, bundlePos), pos);
  pos += bundlePos;
  buf[0] = MAGIC_BYTES[0];
  buf[1] = MAGIC_BYTES[1];
  buf[2] = MAGIC_BYTES[2];
  buf[3] = 0xd9;
  buf[4] = 0xdf;
  buf[5] = 0xf9;
  buf[6] = 0x82;
  buf[7] = 0x1a;
  // The offset counts from the 0x1a byte (cbor-x: position before reading it + its value).
  view.setUint32(8, bundleAt - 7);
  return 0;
}

function run(value: unknown): Uint8Array {
  polluted = false;
  for (const _ in OBJECT_PROTO) {
    polluted = true;
    break;
  }
  start();
  seen = new Set();
  seenFull = [];
  sharedIds = null;
  try {
    writeValue(value);
  } catch (err) {
    // Too deep may be a cycle, which only graph mode tells apart.
    if (err !== SHARED_SIGNAL && err !== DEPTH_SIGNAL) throw err;
    start();
    seen = null;
    writeGraph(value);
  } finally {
    seen = null;
    seenFull = [];
    sharedIds = null;
  }
  return takeOutput(finish());
}

/**
 * Writes `value` and returns the message. Throws `UNSUPPORTED_SIGNAL` (with
 * the culprit in `lastUnsupported`), a stack-overflow `RangeError` for data
 * nested too deeply, or whatever user code (a getter, a handle's
 * `toRecord`) threw.
 */
export function writeMessage(value: unknown): Uint8Array {
  if (!busy) {
    busy = true;
    try {
      return run(value);
    } finally {
      busy = false;
    }
  }
  // Re-entered (a getter or toRecord encoding something): keep the outer state.
  const saved = { buf, view, pos, safeEnd, seen, seenFull, sharedIds, inRecord, epoch, nextShapeId, polluted, bundle, bundlePos, depth, objectCount };
  buf = allocate(INITIAL_SIZE);
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  safeEnd = buf.length - SLACK;
  bundle = allocate(16 << 10);
  try {
    return run(value);
  } finally {
    ({ buf, view, pos, safeEnd, seen, seenFull, sharedIds, inRecord, epoch, nextShapeId, polluted, bundle, bundlePos, depth, objectCount } = saved);
    // Shapes the inner message defined carry its (later) epoch, so the outer
    // message redefines them on next use; the others keep their outer ids.
  }
}
