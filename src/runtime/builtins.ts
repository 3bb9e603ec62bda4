/**
 * Node built-ins that `import "skypool"` must not load: each is looked up
 * with `process.getBuiltinModule` when first used instead of imported.
 *
 * Why: on Deno, evaluating a `node:` built-in that the import graph imports
 * statically is paid by every program at import, used or not — `node:fs`
 * alone costs 7–9 ms there, `node:net`, `node:module` and
 * `node:child_process` about 1 ms each, against ~40 ms for the whole import.
 * A config file, a worker process or the private `redis-server` are needed
 * later, if at all. `process.getBuiltinModule` is synchronous (Node ≥ 20.16,
 * Deno 2), so synchronous code stays synchronous; the runtime caches the
 * module, so looking it up at each use is cheap.
 *
 * Type-only imports (`import type { Socket } from "node:net"`) load nothing
 * and stay as they are.
 *
 * `process` is the global here, not imported from `node:process`: a worker
 * process's entry (`worker/subprocess_main.ts`, through
 * `runtime/worker_host.ts`) imports no `node:` module at all, so that Deno
 * does not start its Node-compatibility layer (~10 ms) before the worker
 * says hello; importing this file must keep it that way.
 *
 * @module
 */

/**
 * `node:fs`, loaded on first call.
 *
 * @example
 * ```ts
 * import { fs } from "./src/runtime/builtins.ts";
 * console.assert(fs().existsSync("."));
 * ```
 */
export const fs = (): typeof import("node:fs") => process.getBuiltinModule("node:fs") as typeof import("node:fs");

/**
 * `node:fs/promises`, loaded on first call.
 *
 * @example
 * ```ts
 * import { fsPromises } from "./src/runtime/builtins.ts";
 * console.assert((await fsPromises().stat(".")).isDirectory());
 * ```
 */
export const fsPromises = (): typeof import("node:fs/promises") =>
  process.getBuiltinModule("node:fs/promises") as typeof import("node:fs/promises");

/**
 * `node:module`, loaded on first call.
 *
 * @example
 * ```ts
 * import { nodeModule } from "./src/runtime/builtins.ts";
 * console.assert(typeof nodeModule().createRequire(import.meta.url) === "function");
 * ```
 */
export const nodeModule = (): typeof import("node:module") =>
  process.getBuiltinModule("node:module") as typeof import("node:module");

/**
 * `node:net`, loaded on first call.
 *
 * @example
 * ```ts
 * import { net } from "./src/runtime/builtins.ts";
 * console.assert(net().isIP("127.0.0.1") === 4);
 * ```
 */
export const net = (): typeof import("node:net") => process.getBuiltinModule("node:net") as typeof import("node:net");

/**
 * `node:child_process`, loaded on first call.
 *
 * @example
 * ```ts
 * import { childProcess } from "./src/runtime/builtins.ts";
 * console.assert(typeof childProcess().spawn === "function");
 * ```
 */
export const childProcess = (): typeof import("node:child_process") =>
  process.getBuiltinModule("node:child_process") as typeof import("node:child_process");
