/**
 * The seam to node-redis: its module is loaded on the first connection
 * (never at `import "skypool"`: it is the heaviest dependency), the subset
 * of its client this package uses, and skypool URLs turned into its
 * options.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { preloadDecoder } from "../task/cbor_decoder.ts";
import { cjsExports } from "../task/cjs_exports.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

// The subset of node-redis' client that this package uses (its own generic
// types are large; this keeps type checking fast and the seam visible).
/** @internal */
export interface RawClient {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand<T>(args: ReadonlyArray<string | Buffer>, options?: unknown): Promise<T>;
  subscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>;
  ref(): void;
  unref(): void;
  /** A client that finds its way to a live node by itself after a drop (a cluster): it is kept, not discarded. */
  readonly routesAround?: boolean;
  destroy(): void;
  close(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** What the rest of the package needs from node-redis once it is loaded. @internal */
export interface RedisDriver {
  createClient(options: Record<string, unknown>): RawClient;
  /** node-redis' `createCluster` (see `redis_cluster.ts`). */
  createCluster(options: Record<string, unknown>): unknown;
  /** The per-command option that returns bulk strings as Buffers. */
  binary: unknown;
}

let driver: Promise<RedisDriver> | undefined;

/**
 * Loads node-redis (once per process; later calls share the same promise).
 * @internal
 */
export function loadDriver(): Promise<RedisDriver> {
  // Values read from Redis are decoded: load the decoder alongside the driver.
  void preloadDecoder();
  driver ??= import("npm:redis@^5.8.0").then((ns) => cjsExports(ns, "createClient")).then((m) => ({
    createClient: m.createClient as unknown as RedisDriver["createClient"],
    createCluster: m.createCluster as unknown as RedisDriver["createCluster"],
    binary: { typeMapping: { [m.RESP_TYPES.BLOB_STRING]: nodeBuffer() } },
  }));
  return driver;
}

/** Hides a password in a URL for error messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@").replace(/([?&]password=)[^&]*/, "$1***");
}

/**
 * Turns a skypool Redis URL into node-redis client options.
 * Accepted: `redis://[user[:pass]@]host[:port][/db]`, `rediss://…` (TLS),
 * and unix sockets as `unix:///path/to.sock[?db=N&password=…&username=…]`
 * (also `redis+unix://` and `redis:///path.sock` style paths ending in `.sock`).
 * A Redis Cluster URL (`redis+cluster://…`) gives `{ cluster: true }`: its
 * nodes are set up by `redis_cluster.ts`.
 *
 * @throws {TypeError} for a URL with another scheme.
 * @example
 * ```ts
 * import { clientOptions } from "./src/state/redis_client.ts";
 * const o = clientOptions("unix:///tmp/r.sock?db=2") as { socket: { path: string }; database: number };
 * console.assert(o.socket.path === "/tmp/r.sock" && o.database === 2);
 * ```
 */
export function clientOptions(url: string): Record<string, unknown> {
  const unix = /^(?:unix|redis\+unix):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^?]+)(?:\?(.*))?$/.exec(url);
  if (unix) {
    const params = new URLSearchParams(unix[4] ?? "");
    const out: Record<string, unknown> = { socket: { path: unix[3] } };
    const username = params.get("username") ?? (unix[1] ? decodeURIComponent(unix[1]) : undefined);
    const password = params.get("password") ?? (unix[2] ? decodeURIComponent(unix[2]) : undefined);
    if (username) out.username = username;
    if (password) out.password = password;
    const db = params.get("db");
    if (db !== null) out.database = Number(db);
    return out;
  }
  if (/^rediss?:\/\//.test(url)) return { url };
  if (/^rediss?\+cluster:\/\//.test(url)) return { cluster: true };
  throw new TypeError(
    `unsupported Redis URL ${JSON.stringify(redactUrl(url))}: use redis://, rediss://, unix:///path/to/socket or redis+cluster://host:port,…`,
  );
}
