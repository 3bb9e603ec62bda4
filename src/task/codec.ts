/**
 * The codec: how every value crosses a process boundary (task arguments,
 * results, thrown errors, queue items, pipe messages).
 *
 * What travels, and how it comes back:
 *
 * | sent | received |
 * | --- | --- |
 * | `null`, booleans, strings (any UTF-16, lone surrogates too), numbers (`NaN`, `±Infinity`, `-0`) | the same |
 * | `undefined`, `bigint` (any size) | the same |
 * | plain objects (prototype `Object.prototype` or `null`) | the same prototype; own enumerable string-keyed properties, in order (`__proto__` stays an own key) |
 * | arrays | arrays; a hole arrives as `undefined`, non-index properties stay behind |
 * | `Date` (also invalid), `RegExp` (source and flags), `Map`, `Set` | the same |
 * | typed arrays (every kind the receiver has, `BigInt64Array` and `Float16Array` included), `DataView`, `ArrayBuffer`, Node `Buffer` | the same class, with a copy of the bytes the view covers |
 * | `Error` and subclasses | see below |
 * | registered handles (`Lock`, `Queue`, …) | rebuilt by their `fromRecord`, connected to the same Redis |
 * | the same object reached twice, cycles | the same graph: identity is kept |
 *
 * Errors keep `message`, `name`, `stack`, `cause` (any value, recursively),
 * own enumerable fields (`code`, …) and `AggregateError#errors`. Built-in
 * classes and skypool's own error classes come back as themselves, with the
 * remote stack as `.stack`; any other class becomes a `RemoteError` whose
 * `remoteName` is the original name (`class MyErr extends Error {}` gives
 * `"MyErr"`) and `remoteStack` the original stack.
 *
 * Refused, with a `SerializationError` naming the path
 * (`cannot serialize args[0].callback: a function`): functions, classes,
 * symbols, class instances with their own prototype (user classes, `URL`,
 * subclasses of `Map`/`Array`/…), `Promise`, `WeakMap`, `WeakSet`, `WeakRef`,
 * boxed primitives, `SharedArrayBuffer` and views of one, `Blob`.
 *
 * What is read like `structuredClone` reads it, and so is not an error:
 * getters are called and their values sent; symbol-keyed and non-enumerable
 * properties are not part of the data (checking every object for them
 * would cost a quarter of the encode time); two typed arrays over one
 * `ArrayBuffer` arrive over two buffers.
 *
 * Decoded typed arrays of 1 KiB or more are views of the input bytes when
 * aligned (no copy), so the input must not be reused afterwards; smaller
 * or misaligned ones are copies.
 *
 * @module
 */
import { SerializationError } from "../errors.ts";
import { DEPTH_SIGNAL, lastUnsupported, MAX_DEPTH, UNSUPPORTED_SIGNAL, writeMessage } from "./codec_writer.ts";
import { readMessage } from "./codec_reader.ts";
import { preloadDecoder } from "./cbor_decoder.ts";
import { describeObject, findProblem } from "./codec_path.ts";

export { registerHandle } from "./codec_handles.ts";

/** Options of {@link encode}. */
export interface EncodeOptions {
  /**
   * How the value is named in error messages (default `"value"`): with
   * `path: "args"`, a function in the first argument's `callback` is
   * reported as `args[0].callback`.
   */
  path?: string;
}

function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

function describeCulprit(v: unknown): string {
  if (typeof v === "function") return "a function";
  if (typeof v === "symbol") return "a symbol";
  if (typeof v === "object" && v !== null) {
    const proto = Object.getPrototypeOf(v);
    return proto === null ? "an object" : describeObject(v, proto);
  }
  return typeof v;
}

/**
 * Encodes a value for another process (see the module doc for what
 * travels).
 *
 * @example
 * ```ts
 * import { encode, decode } from "./src/task/codec.ts";
 * const a = { n: 1n << 70n, when: new Date(0), tags: new Set(["x"]) };
 * const cyclic: { self?: unknown } = {};
 * cyclic.self = cyclic;
 * const back = decode(encode([a, cyclic])) as [typeof a, typeof cyclic];
 * console.assert(back[0].n === 1n << 70n && back[0].tags.has("x"));
 * console.assert(back[1].self === back[1]);
 * ```
 * @throws {SerializationError} naming the path of a value that cannot be
 *   sent (`cannot serialize args[0].callback: a function`), for data nested
 *   too deeply to walk, or when a getter or a handle's `toRecord` throws
 *   (the original error is the `cause`).
 * @throws {TypeError} if `options.path` is given and is not a string.
 */
export function encode(value: unknown, options?: EncodeOptions): Uint8Array {
  if (options !== undefined && options.path !== undefined && typeof options.path !== "string") {
    throw new TypeError("encode: options.path must be a string");
  }
  // What is sent now is answered later: load the decoder while it travels.
  void preloadDecoder();
  try {
    return writeMessage(value);
  } catch (err) {
    const root = options?.path ?? "value";
    if (err === DEPTH_SIGNAL) {
      throw new SerializationError(`cannot serialize ${root}: it is nested more than ${MAX_DEPTH} levels deep`);
    }
    if (isStackOverflow(err)) {
      throw new SerializationError(`cannot serialize ${root}: it is nested too deeply for the stack`, { cause: err });
    }
    if (err instanceof SerializationError) throw err;
    let problem;
    try {
      problem = findProblem(value, root);
    } catch (walkErr) {
      if (!isStackOverflow(walkErr)) throw walkErr;
    }
    if (problem !== undefined) {
      throw new SerializationError(`cannot serialize ${problem.path}: ${problem.reason}`, {
        cause: err === UNSUPPORTED_SIGNAL ? undefined : err,
      });
    }
    if (err === UNSUPPORTED_SIGNAL) {
      // The slow walk found nothing (the data changed under us, e.g. a getter with side effects).
      throw new SerializationError(`cannot serialize ${root}: it contains ${describeCulprit(lastUnsupported)}`);
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new SerializationError(`cannot serialize ${root}: ${message}`, { cause: err });
  }
}

/**
 * Decodes bytes made by {@link encode} (in this or another process, on
 * Deno or Node).
 *
 * @example
 * ```ts
 * import { encode, decode } from "./src/task/codec.ts";
 * console.assert(Object.is(decode(encode(-0)), -0));
 * ```
 * @throws {TypeError} if `bytes` is not a Uint8Array.
 * @throws {SerializationError} if the bytes are not one whole skypool
 *   message (another format, truncated, trailing bytes, malformed records),
 *   or name a handle kind this process has not registered.
 */
export function decode(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`decode: expected a Uint8Array, got ${bytes === null ? "null" : typeof bytes}`);
  }
  return readMessage(bytes);
}
