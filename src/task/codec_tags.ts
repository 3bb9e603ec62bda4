/**
 * The CBOR tags of skypool's wire format, shared by the writer
 * (`codec_writer.ts`) and the reader (`codec_reader.ts`).
 *
 * The numbers sit in one block below 1280 on purpose: cbor-x keeps its tag
 * table in a plain array, which V8 stores densely only while the largest
 * index stays near the ones cbor-x itself uses (≤ 259); a tag in the
 * millions would turn every tag lookup into a dictionary lookup. The block
 * 1230–1249 is not used by cbor-x, and skypool registers only decoders for
 * it (no encoder classes), so other cbor-x users in the same process keep
 * their behaviour.
 *
 * @module
 */

/**
 * Outermost tag of a message without string bundle: `[value]` (the array
 * makes the header 4 bytes, the same length modulo 8 as the bundled form,
 * so payload alignment does not depend on which form is chosen).
 */
export const T_MAGIC_V1_PLAIN = 1229;
/**
 * Outermost tag of a message with a string bundle: its content is cbor-x's
 * bundled-strings tag `0xdff9 [offset, value]`, and the bundle (ASCII
 * strings of 16–63 characters, which cbor-x's JavaScript decoder reads
 * slowly one by one) ends the message.
 */
export const T_MAGIC_V1 = 1230;
/** A bigint outside the 64-bit range: a hex text string, `-` for negatives. */
export const T_BIGINT = 1231;
/** A `Date`: its time value in ms (NaN for an invalid date). */
export const T_DATE = 1232;
/** A `RegExp`: `[source, flags]`. */
export const T_REGEXP = 1233;
/** A `Map`: `[k0, v0, k1, v1, …]`. */
export const T_MAP = 1234;
/** A `Set`: `[v0, v1, …]`. */
export const T_SET = 1235;
/** A typed array, `DataView` or `Buffer`: `[typeCode, padding bytes, data bytes]`. */
export const T_TYPED = 1236;
/** An `ArrayBuffer`: its bytes. */
export const T_ARRAYBUFFER = 1237;
/** A string longer than 64 UTF-8 bytes: its UTF-8 bytes (see `codec_writer.ts`). */
export const T_STRING = 1238;
/** An `Error`: see `codec_errors.ts`. */
export const T_ERROR = 1240;
/** A registered handle: `[kind, record]`. */
export const T_HANDLE = 1241;
/** A plain object whose keys CBOR records cannot carry (`__proto__`): `[k0, v0, …]`. */
export const T_OBJECT = 1242;
/** An object with a `null` prototype: `[k0, v0, …]`. */
export const T_NULL_OBJECT = 1243;
/** A string that is not well-formed UTF-16 (lone surrogates): its code units, little-endian. */
export const T_WTF16 = 1244;
/** A value with shared references or cycles: `[shells, bodies, root]`. */
export const T_GRAPH = 1245;
/** One shared object inside a graph, created empty before any body is read. */
export const T_SHELL = 1246;
/** A reference to the n-th shell of the enclosing graph. */
export const T_REF = 1247;

/** The bytes every message starts with: `T_MAGIC_V1_PLAIN` or `T_MAGIC_V1` as a CBOR tag (they differ only in the last). */
export const MAGIC_BYTES: readonly [number, number, number] = [0xd9, T_MAGIC_V1 >> 8, T_MAGIC_V1 & 0xff];
export const MAGIC_PLAIN_LAST_BYTE = T_MAGIC_V1_PLAIN & 0xff;

/** Shell kinds (first element of a `T_SHELL` array). */
export const Shell = {
  Object: 0,
  NullObject: 1,
  Array: 2,
  Map: 3,
  Set: 4,
  Error: 5,
  /** A value without children (Date, RegExp, bytes, handle): the shell holds it whole. */
  Leaf: 6,
} as const;

/** Typed array codes (first element of a `T_TYPED` array). */
export const TYPED_CODES: Readonly<Record<string, number>> = {
  Int8Array: 1,
  Uint8Array: 2,
  Uint8ClampedArray: 3,
  Int16Array: 4,
  Uint16Array: 5,
  Int32Array: 6,
  Uint32Array: 7,
  Float32Array: 8,
  Float64Array: 9,
  BigInt64Array: 10,
  BigUint64Array: 11,
  Float16Array: 12,
  DataView: 13,
  Buffer: 14,
};

/**
 * Byte payloads at least this long are written 8-byte aligned (relative to
 * the start of the message) and decoded as views of the input; shorter ones
 * are copied, so a small array does not keep a whole batch buffer alive.
 */
export const VIEW_MIN_BYTES = 1024;
