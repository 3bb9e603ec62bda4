/**
 * Checks a user-supplied transport object before a pool starts it: a
 * missing method would otherwise surface later as an obscure
 * "start is not a function" from inside the pool.
 *
 * @module
 */
import { show } from "../validate.ts";
import type { AnyTransport } from "./transport.ts";

/** The methods each kind of transport must have. */
const METHODS = {
  "remote": ["start", "submit", "close", "terminate"],
  "in-process": ["start", "runChunk", "close", "terminate"],
} as const;

/**
 * Checks that `value` is a {@link AnyTransport}: a `kind` of `"remote"` or
 * `"in-process"`, that kind's methods, a `name` and a positive integer `size`.
 *
 * @example
 * ```ts
 * import { checkTransportObject } from "./src/transport/transport_check.ts";
 * import { InlineTransport } from "./src/transport/inline.ts";
 * console.assert(checkTransportObject("Pool transport", new InlineTransport()).kind === "in-process");
 * ```
 * @throws {TypeError} for an object that is not a transport, naming what is missing.
 * @throws {RangeError} for a `size` that is not a positive integer.
 */
export function checkTransportObject(what: string, value: object): AnyTransport {
  const t = value as Record<string, unknown>;
  const kind = t.kind;
  if (kind !== "remote" && kind !== "in-process") {
    throw new TypeError(`${what}.kind must be "remote" or "in-process", got ${show(kind)}`);
  }
  for (const method of METHODS[kind]) {
    if (typeof t[method] !== "function") throw new TypeError(`${what}.${method} must be a function, got ${show(t[method])}`);
  }
  if (typeof t.name !== "string") throw new TypeError(`${what}.name must be a string, got ${show(t.name)}`);
  const size = t.size;
  if (typeof size !== "number") throw new TypeError(`${what}.size must be a positive integer, got ${show(size)}`);
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`${what}.size must be a positive integer, got ${show(size)}`);
  return value as AnyTransport;
}
