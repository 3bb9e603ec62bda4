/**
 * C typecodes for `Value`, `RawValue`, `SharedArray` and `RawArray`: what
 * each one holds, how a JS value is coerced into it (wrapping like C), and
 * how values are packed into the little-endian bytes kept in Redis.
 *
 * | code | C type | bytes | JS value |
 * | --- | --- | --- | --- |
 * | `'c'` | `char` | 1 | `Uint8Array` of length 1 (set also takes a 1-char string or 0–255) |
 * | `'b'` `'B'` | `signed char` / `unsigned char` | 1 | `number` |
 * | `'h'` `'H'` | `short` / `unsigned short` | 2 | `number` |
 * | `'i'` `'I'` | `int` / `unsigned int` | 4 | `number` |
 * | `'l'` `'L'` | `long` / `unsigned long` (LP64, as on Linux and macOS) | 8 | `bigint` |
 * | `'q'` `'Q'` | `long long` / `unsigned long long` | 8 | `bigint` |
 * | `'f'` | `float` | 4 | `number` (rounded to float32) |
 * | `'d'` | `double` | 8 | `number` |
 * | `'u'` | `wchar_t` (UTF-32) | 4 | a one-code-point `string` |
 *
 * The 64-bit codes read back as `bigint`, like `BigInt64Array`, so every
 * value is exact; they accept a `number` (an integer) or a `bigint` on set.
 *
 * @module
 */import { checkInteger } from "../validate.ts";


/** A C typecode accepted by `Value`, `RawValue`, `SharedArray` and `RawArray`. */
export type Typecode =
  | "c"
  | "b"
  | "B"
  | "h"
  | "H"
  | "i"
  | "I"
  | "l"
  | "L"
  | "q"
  | "Q"
  | "f"
  | "d"
  | "u";

/** The JS type a typecode reads back as. */
export type TypecodeValue<C extends Typecode> = C extends "l" | "L" | "q" | "Q" ? bigint
  : C extends "c" ? Uint8Array
  : C extends "u" ? string
  : number;

/** What a typecode accepts when set (coerced and wrapped like C). */
export type TypecodeInput<C extends Typecode> = C extends "c" ? Uint8Array | string | number
  : C extends "u" ? string
  : number | bigint;

type Kind = "int" | "bigint" | "float" | "char" | "wchar";

/** How one typecode is stored and converted. */
export interface TypecodeInfo {
  /** The typecode itself. */
  readonly code: Typecode;
  /** Bytes per item. */
  readonly size: number;
  /** Human-readable C type, for messages. */
  readonly ctype: string;
  readonly kind: Kind;
  /** Bits for integers (wrap width), else 0. */
  readonly bits: number;
  readonly signed: boolean;
}

const TABLE: Record<Typecode, TypecodeInfo> = {
  c: { code: "c", size: 1, ctype: "char", kind: "char", bits: 8, signed: false },
  b: { code: "b", size: 1, ctype: "signed char", kind: "int", bits: 8, signed: true },
  B: { code: "B", size: 1, ctype: "unsigned char", kind: "int", bits: 8, signed: false },
  h: { code: "h", size: 2, ctype: "short", kind: "int", bits: 16, signed: true },
  H: { code: "H", size: 2, ctype: "unsigned short", kind: "int", bits: 16, signed: false },
  i: { code: "i", size: 4, ctype: "int", kind: "int", bits: 32, signed: true },
  I: { code: "I", size: 4, ctype: "unsigned int", kind: "int", bits: 32, signed: false },
  l: { code: "l", size: 8, ctype: "long", kind: "bigint", bits: 64, signed: true },
  L: { code: "L", size: 8, ctype: "unsigned long", kind: "bigint", bits: 64, signed: false },
  q: { code: "q", size: 8, ctype: "long long", kind: "bigint", bits: 64, signed: true },
  Q: { code: "Q", size: 8, ctype: "unsigned long long", kind: "bigint", bits: 64, signed: false },
  f: { code: "f", size: 4, ctype: "float", kind: "float", bits: 0, signed: true },
  d: { code: "d", size: 8, ctype: "double", kind: "float", bits: 0, signed: true },
  u: { code: "u", size: 4, ctype: "wchar_t", kind: "wchar", bits: 32, signed: false },
};

/** Every supported typecode. */
export const TYPECODES: readonly Typecode[] = Object.freeze(Object.keys(TABLE) as Typecode[]);

/**
 * Looks a typecode up.
 *
 * @example
 * ```ts
 * import { typecodeInfo } from "./src/state/typecodes.ts";
 * console.assert(typecodeInfo("i").size === 4);
 * ```
 * @throws {TypeError} 'bad typecode' for anything that is not one of {@link TYPECODES}.
 */
export function typecodeInfo(code: unknown): TypecodeInfo {
  if (typeof code === "string" && Object.hasOwn(TABLE, code)) return TABLE[code as Typecode];
  throw new TypeError(
    `bad typecode ${typeof code === "string" ? JSON.stringify(code) : String(code)} (must be one of ${TYPECODES.join(", ")})`,
  );
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 20 ? v.slice(0, 20) + "…" : v);
  if (typeof v === "bigint") return `${v}n`;
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return String(v);
}

function toBigInt(info: TypecodeInfo, v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v) || !Number.isInteger(v)) {
      throw new TypeError(`${info.ctype} ('${info.code}') needs an integer, got ${describe(v)}`);
    }
    return BigInt(v);
  }
  throw new TypeError(`${info.ctype} ('${info.code}') needs a number or bigint, got ${describe(v)}`);
}

/**
 * Converts a JS value to what the typecode holds, wrapping integers like C
 * (`'i'` wraps at 2^31, `'B'` at 256) and rounding `'f'` to float32.
 *
 * @example
 * ```ts
 * import { coerce } from "./src/state/typecodes.ts";
 * console.assert(coerce("i", 2 ** 31) === -(2 ** 31));
 * console.assert(coerce("B", 257) === 1);
 * console.assert(coerce("q", 2 ** 40) === 2n ** 40n);
 * ```
 * @throws {TypeError} for a value of the wrong kind (a fraction for an integer code, a string for a number…).
 * @throws {RangeError} for a `'c'` number outside 0–255 or a `'c'`/`'u'` string that is not one character.
 */
export function coerce<C extends Typecode>(code: C, v: unknown): TypecodeValue<C>;
export function coerce(code: Typecode, v: unknown): unknown {
  const info = typecodeInfo(code);
  switch (info.kind) {
    case "int": {
      const b = toBigInt(info, v);
      return Number(info.signed ? BigInt.asIntN(info.bits, b) : BigInt.asUintN(info.bits, b));
    }
    case "bigint": {
      const b = toBigInt(info, v);
      return info.signed ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b);
    }
    case "float": {
      let n: number;
      if (typeof v === "number") n = v;
      else if (typeof v === "bigint") n = Number(v);
      else throw new TypeError(`${info.ctype} ('${info.code}') needs a number, got ${describe(v)}`);
      return info.code === "f" ? Math.fround(n) : n;
    }
    case "char":
      return Uint8Array.of(charByte(v));
    case "wchar": {
      if (typeof v !== "string") throw new TypeError(`wchar_t ('u') needs a one-character string, got ${describe(v)}`);
      const cp = v.codePointAt(0);
      if (cp === undefined || String.fromCodePoint(cp).length !== v.length) {
        throw new RangeError(`wchar_t ('u') needs exactly one character, got ${describe(v)}`);
      }
      return v;
    }
  }
}

function charByte(v: unknown): number {
  if (v instanceof Uint8Array) {
    if (v.length !== 1) throw new RangeError(`char ('c') needs exactly one byte, got ${v.length} bytes`);
    return v[0];
  }
  if (typeof v === "string") {
    if (v.length !== 1 || v.charCodeAt(0) > 255) {
      throw new RangeError(`char ('c') needs one character with a code of 0-255, got ${describe(v)}`);
    }
    return v.charCodeAt(0);
  }
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`char ('c') needs a byte value 0-255, got ${v}`);
    return v;
  }
  throw new TypeError(`char ('c') needs a Uint8Array of length 1, a one-character string or 0-255, got ${describe(v)}`);
}

/**
 * The zero value of a typecode.
 *
 * @example
 * ```ts
 * import { zeroOf } from "./src/state/typecodes.ts";
 * console.assert(zeroOf("q") === 0n && zeroOf("d") === 0);
 * ```
 * @throws {TypeError} 'bad typecode'.
 */
export function zeroOf<C extends Typecode>(code: C): TypecodeValue<C>;
export function zeroOf(code: Typecode): unknown {
  return unpack(code, new Uint8Array(typecodeInfo(code).size), 1)[0];
}

function writeOne(info: TypecodeInfo, dv: DataView, off: number, v: unknown): void {
  switch (info.code) {
    case "c":
      dv.setUint8(off, (v as Uint8Array)[0]);
      return;
    case "b":
      dv.setInt8(off, v as number);
      return;
    case "B":
      dv.setUint8(off, v as number);
      return;
    case "h":
      dv.setInt16(off, v as number, true);
      return;
    case "H":
      dv.setUint16(off, v as number, true);
      return;
    case "i":
      dv.setInt32(off, v as number, true);
      return;
    case "I":
      dv.setUint32(off, v as number, true);
      return;
    case "l":
    case "q":
      dv.setBigInt64(off, v as bigint, true);
      return;
    case "L":
    case "Q":
      dv.setBigUint64(off, v as bigint, true);
      return;
    case "f":
      dv.setFloat32(off, v as number, true);
      return;
    case "d":
      dv.setFloat64(off, v as number, true);
      return;
    case "u":
      dv.setUint32(off, (v as string).codePointAt(0)!, true);
      return;
  }
}

function readOne(info: TypecodeInfo, dv: DataView, off: number): unknown {
  switch (info.code) {
    case "c":
      return Uint8Array.of(dv.getUint8(off));
    case "b":
      return dv.getInt8(off);
    case "B":
      return dv.getUint8(off);
    case "h":
      return dv.getInt16(off, true);
    case "H":
      return dv.getUint16(off, true);
    case "i":
      return dv.getInt32(off, true);
    case "I":
      return dv.getUint32(off, true);
    case "l":
    case "q":
      return dv.getBigInt64(off, true);
    case "L":
    case "Q":
      return dv.getBigUint64(off, true);
    case "f":
      return dv.getFloat32(off, true);
    case "d":
      return dv.getFloat64(off, true);
    case "u": {
      const cp = dv.getUint32(off, true);
      // A code point Redis holds but JS cannot represent reads as U+FFFD rather than throwing.
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
    }
  }
}

/**
 * Packs values (each coerced as by {@link coerce}) into little-endian bytes.
 *
 * @example
 * ```ts
 * import { pack } from "./src/state/typecodes.ts";
 * console.assert(pack("h", [1, -1]).join() === "1,0,255,255");
 * ```
 * @throws {TypeError|RangeError} as {@link coerce}.
 */
export function pack(code: Typecode, values: readonly unknown[]): Uint8Array {
  const info = typecodeInfo(code);
  const out = new Uint8Array(values.length * info.size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => writeOne(info, dv, i * info.size, coerce(info.code, v)));
  return out;
}

/**
 * Reads `count` values from little-endian bytes; missing trailing bytes read
 * as zero (Redis returns a shorter string for a key that was never filled).
 *
 * @example
 * ```ts
 * import { unpack } from "./src/state/typecodes.ts";
 * console.assert(unpack("h", Uint8Array.of(1, 0, 255, 255), 2).join() === "1,-1");
 * ```
 */
export function unpack<C extends Typecode>(code: C, bytes: Uint8Array, count: number): TypecodeValue<C>[];
export function unpack(code: Typecode, bytes: Uint8Array, count: number): unknown[] {
  const info = typecodeInfo(code);
  let src = bytes;
  if (src.length < count * info.size) {
    src = new Uint8Array(count * info.size);
    src.set(bytes);
  }
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out = new Array<unknown>(count);
  for (let i = 0; i < count; i++) out[i] = readOne(info, dv, i * info.size);
  return out;
}

/**
 * Turns the `sizeOrValues` argument of `SharedArray`/`RawArray` into the
 * list of initial values: a size gives that many zeros; `'c'` also takes a
 * `Uint8Array` or a string of bytes, `'u'` a string of characters.
 *
 * @example
 * ```ts
 * import { initialValues } from "./src/state/typecodes.ts";
 * console.assert(initialValues("i", 3).join() === "0,0,0");
 * console.assert(initialValues("c", "ab").length === 2);
 * ```
 * @throws {TypeError} for values of the wrong kind (a string for an `'i'` array…).
 * @throws {RangeError} for a size that is negative, fractional, or too large for one Redis string.
 */
export function initialValues(code: Typecode, sizeOrValues: unknown, owner = "array"): unknown[] {
  const info = typecodeInfo(code);
  const max = Math.floor(MAX_REDIS_STRING / info.size);
  if (typeof sizeOrValues === "number") {
    if (sizeOrValues > max && Number.isInteger(sizeOrValues)) throw tooLarge(owner, sizeOrValues, info, max);
    checkInteger(`${owner} size`, sizeOrValues, { min: 0, max });
    return new Array(sizeOrValues).fill(zeroOf(info.code));
  }
  const values = valuesOf(info, sizeOrValues, owner);
  if (values.length > max) throw tooLarge(owner, values.length, info, max);
  return values;
}

/** The largest value one Redis string holds (`proto-max-bulk-len`'s default): an array is one string. */
const MAX_REDIS_STRING = 512 * 1024 * 1024;

function tooLarge(owner: string, n: number, info: TypecodeInfo, max: number): RangeError {
  return new RangeError(
    `${owner} size must be at most ${max} for ${info.ctype} ('${info.code}') items, got ${n}: the array is one Redis string, which holds at most 512 MiB`,
  );
}

function valuesOf(info: TypecodeInfo, sizeOrValues: unknown, owner: string): unknown[] {
  if (typeof sizeOrValues === "string") {
    if (info.kind === "char") return Array.from(sizeOrValues, (ch) => coerce("c", ch));
    if (info.kind === "wchar") return Array.from(sizeOrValues);
    throw new TypeError(`${owner}: a string cannot initialise an array of ${info.ctype} ('${info.code}'), got ${describe(sizeOrValues)}`);
  }
  if (sizeOrValues instanceof Uint8Array && info.kind === "char") {
    return Array.from(sizeOrValues, (b) => Uint8Array.of(b));
  }
  if (sizeOrValues !== null && typeof sizeOrValues === "object" && Symbol.iterator in sizeOrValues) {
    return Array.from(sizeOrValues as Iterable<unknown>, (v) => coerce(info.code, v));
  }
  throw new TypeError(`${owner} needs a size or an iterable of values, got ${describe(sizeOrValues)}`);
}
