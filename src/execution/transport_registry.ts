/**
 * Which transports exist: a name → factory registry (`inline` and `local`
 * built in; a new backend registers one line here). A user-supplied
 * transport object is checked by `transport/transport_check.ts`.
 *
 * @module
 */
import { fleetTransport } from "../transport/fleet.ts";
import { httpTransport } from "../transport/http.ts";
import { InlineTransport } from "../transport/inline.ts";
import { lambdaTransport } from "../transport/lambda.ts";
import { defaultProcesses, LocalTransport } from "../transport/local.ts";
import type { AnyTransport } from "../transport/transport.ts";
import { checkTransportObject } from "../transport/transport_check.ts";
import { show } from "../validate.ts";

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
  ["http", (o) => httpTransport(o.processes)],
  ["lambda", (o) => lambdaTransport({ processes: o.processes })],
  ["fleet", (o) => fleetTransport(o.processes)],
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
export function resolveTransport(spec: unknown, options: TransportFactoryOptions, what = "transport"): AnyTransport {
  const known = `${transportNames().map((n) => JSON.stringify(n)).join(", ")} or a Transport object`;
  if (spec !== null && typeof spec === "object") return checkTransportObject(what, spec);
  if (typeof spec !== "string") throw new TypeError(`${what} must be ${known}, got ${show(spec)}`);
  const factory = factories.get(spec);
  if (!factory) throw new RangeError(`${what} must be ${known}, got ${show(spec)}`);
  return factory(options);
}
