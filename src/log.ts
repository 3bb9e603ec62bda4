/**
 * Debug logging, under the `debug` package's convention: run with
 * `DEBUG=skypool:*` (or a list such as `DEBUG=skypool:pool,skypool:redis`)
 * to see what the pool does on stderr. Namespaces: `skypool:pool` (chunking
 * decisions), `skypool:worker` (worker start, exit, replacement),
 * `skypool:redis` (connect, reconnect), `skypool:executor` (retries).
 *
 * Off by default and free when off: `DEBUG` is read once, when this module
 * loads. Unless it mentions `skypool`, every logger is one shared no-op and
 * the `debug` package is never loaded. When on, `debug` loads on the first
 * message; messages written before it is ready are kept and written, in
 * order, once it is. Workers inherit the environment, so they log too.
 *
 * @module
 */

/** A logger: `log("format %d", n)` with `debug`'s format directives. */
export interface Log {
  (format: string, ...args: unknown[]): void;
  /**
   * Whether `DEBUG` mentions skypool at all: callers skip work done only to
   * build a message (the namespace itself may still be filtered out).
   */
  readonly enabled: boolean;
}

type DebugFactory = (namespace: string) => (format: string, ...args: unknown[]) => void;

declare const Deno: { env: { get(name: string): string | undefined } } | undefined;

function debugVariable(): string {
  try {
    // Deno's own API there: its `process` global starts the Node-compatibility layer (~18 ms).
    return (typeof Deno !== "undefined" ? Deno.env.get("DEBUG") : process.env.DEBUG) ?? "";
  } catch {
    return ""; // Deno without --allow-env: no logging rather than a failed import
  }
}

const ON = /skypool/.test(debugVariable());

const off: Log = Object.assign(() => {}, { enabled: false as const });

let factory: DebugFactory | undefined;
let loading: Promise<void> | undefined;
const backlog: [namespace: string, format: string, args: unknown[]][] = [];
const instances = new Map<string, (format: string, ...args: unknown[]) => void>();

function write(namespace: string, format: string, args: unknown[]): void {
  let d = instances.get(namespace);
  if (d === undefined) {
    d = factory!(namespace);
    instances.set(namespace, d);
  }
  d(format, ...args);
}

function load(): void {
  loading ??= import("npm:debug@^4.4.3").then(
    (mod) => {
      factory = ((mod as { default?: unknown }).default ?? mod) as DebugFactory;
      for (const [ns, format, args] of backlog.splice(0)) write(ns, format, args);
    },
    (err) => {
      factory = () => () => {};
      backlog.length = 0;
      process.stderr.write(`skypool: DEBUG is set but the debug package cannot be loaded: ${(err as Error)?.message ?? err}\n`);
    },
  );
}

/**
 * The logger of `namespace` (`"skypool:pool"`…). With `DEBUG` not
 * mentioning skypool it is a shared no-op with `enabled` false.
 *
 * @example
 * ```ts
 * import { logger } from "./src/log.ts";
 * const log = logger("skypool:pool");
 * log("chunksize %d for %d items", 4, 100); // written only under DEBUG=skypool:*
 * console.assert(typeof log.enabled === "boolean");
 * ```
 */
export function logger(namespace: string): Log {
  if (!ON) return off;
  const log = (format: string, ...args: unknown[]) => {
    if (factory !== undefined) return write(namespace, format, args);
    backlog.push([namespace, format, args]);
    load();
  };
  return Object.assign(log, { enabled: true as const });
}
