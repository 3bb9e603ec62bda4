/**
 * Which transports exist: a name → factory registry (`inline` and `local`
 * built in; a new backend registers one line here), and the check that a
 * user-supplied transport object has what the execution core calls.
 *
 * @module
 */
import { InlineTransport } from "../transport/inline.ts";
import { defaultProcesses, LocalTransport } from "../transport/local.ts";
import type { AnyTransport } from "../transport/transport.ts";

/** What a factory is told about the transport wanted. */
export interface TransportFactoryOptions {
  /** How many batches it should run at once; `undefined`: its own default. */
  processes?: number;
}

/** Makes a transport; registered under a name with {@link registerTransport}. */
export type TransportFactory = (options: TransportFactoryOptions) => AnyTransport;

const factories = new Map<string, TransportFactory>([
  ["inline", () => new InlineTransport()],
  ["local", (o) => new LocalTransport({ processes: o.processes ?? defaultProcesses() })],
]);

/**
 * Registers (or replaces) the factory of a transport name.
 *
 * @example
 * ```ts
 * import { registerTransport, transportNames } from "./src/execution/transport_registry.ts";
 * import { InlineTransport } from "./src/transport/inline.ts";
 * registerTransport("my-inline", () => new InlineTransport());
 * console.assert(transportNames().includes("my-inline"));
 * ```
 * @throws {TypeError} when `name` is not a non-empty string or `factory` not a function.
 */
export function registerTransport(name: string, factory: TransportFactory): void {
  if (typeof name !== "string" || name.length === 0) throw new TypeError(`registerTransport: name must be a non-empty string, got ${String(name)}`);
  if (typeof factory !== "function") throw new TypeError(`registerTransport: the factory of ${JSON.stringify(name)} must be a function`);
  factories.set(name, factory);
}

/** The registered transport names, in registration order. */
export function transportNames(): string[] {
  return [...factories.keys()];
}

const REMOTE_METHODS = ["start", "submit", "close", "terminate"] as const;
const IN_PROCESS_METHODS = ["start", "runChunk", "close", "terminate"] as const;

/**
 * Checks that `value` is a transport object: a `kind` of `"remote"` (it
 * takes encoded batches) or `"in-process"`, a positive integer `size`, a
 * `name`, and the methods of its kind.
 *
 * @throws {TypeError} naming the first missing or wrong member.
 */
export function checkTransport(value: unknown): AnyTransport {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`transport must be a transport name or a Transport object, got ${value === null ? "null" : typeof value}`);
  }
  const t = value as Record<string, unknown>;
  if (t.kind !== "remote" && t.kind !== "in-process") {
    throw new TypeError(`transport object: kind must be "remote" or "in-process", got ${JSON.stringify(t.kind)}`);
  }
  if (typeof t.name !== "string") throw new TypeError(`transport object: name must be a string, got ${typeof t.name}`);
  if (typeof t.size !== "number" || !Number.isInteger(t.size) || t.size < 1) {
    throw new TypeError(`transport object ${JSON.stringify(t.name)}: size must be a positive integer, got ${String(t.size)}`);
  }
  for (const m of t.kind === "remote" ? REMOTE_METHODS : IN_PROCESS_METHODS) {
    if (typeof t[m] !== "function") throw new TypeError(`transport object ${JSON.stringify(t.name)}: it has no ${m}() method`);
  }
  return value as AnyTransport;
}

/**
 * The transport a `transport` option names (made by its factory), or the
 * transport object given, checked.
 *
 * @example
 * ```ts
 * import { resolveTransport } from "./src/execution/transport_registry.ts";
 * const t = resolveTransport("inline", {});
 * console.assert(t.kind === "in-process" && t.size === 1);
 * ```
 * @throws {RangeError} for a name no factory is registered under.
 * @throws {TypeError} for anything else that is not a transport object.
 */
export function resolveTransport(spec: unknown, options: TransportFactoryOptions): AnyTransport {
  if (typeof spec !== "string") return checkTransport(spec);
  const factory = factories.get(spec);
  if (!factory) {
    const known = transportNames().map((n) => JSON.stringify(n)).join(" or ");
    throw new RangeError(`unknown transport ${JSON.stringify(spec)}; expected ${known} or a Transport object`);
  }
  return factory(options);
}
