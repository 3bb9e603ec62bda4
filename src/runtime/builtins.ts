/**
 * Node built-ins that `import "skypool"` must not load: each is looked up
 * with `process.getBuiltinModule` when first used instead of imported.
 *
 * Why: on Deno, evaluating a `node:` built-in that the import graph imports
 * statically is paid by every program at import, used or not: the first one
 * starts Deno's Node-compatibility layer. Measured on the 2-core CI machine
 * (a script importing one built-in, minus an empty script, medians of 11):
 * `node:fs` +22 ms, `node:crypto` +21, `node:net` +19, `node:process` +12
 * (reading the `process` global +18), `node:url` +8, `node:path` +5,
 * `node:buffer`, `node:timers` +4, `node:os` +3; `mod.ts` imported in
 * 51 ms with them and 31 ms with the layer already started. A config file,
 * a worker process, a hash or a path are needed later, if at all.
 * `process.getBuiltinModule` is synchronous (Node ≥ 20.16, Deno 2), so
 * synchronous code stays synchronous. The runtime caches each module;
 * `nodePath`, `nodeUrl`, `nodeOs` and `nodeCrypto` also keep theirs (crypto
 * signs every remote batch), so a call to them costs one property read.
 *
 * Type-only imports (`import type { Socket } from "node:net"`) load nothing
 * and stay as they are.
 *
 * The same holds for Node's globals on Deno (`process`, `Buffer`,
 * `setImmediate`…): each is a getter that starts the layer on first read, so
 * module scope reads none of them; code reads them when it runs.
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

let pathModule: typeof import("node:path") | undefined;
/**
 * `node:path`, loaded on first call.
 *
 * @example
 * ```ts
 * import { nodePath } from "./src/runtime/builtins.ts";
 * console.assert(nodePath().join("a", "b") === "a/b" || nodePath().sep === "\\");
 * ```
 */
export const nodePath = (): typeof import("node:path") =>
  pathModule ??= process.getBuiltinModule("node:path") as typeof import("node:path");

let urlModule: typeof import("node:url") | undefined;
/**
 * `node:url`, loaded on first call.
 *
 * @example
 * ```ts
 * import { nodeUrl } from "./src/runtime/builtins.ts";
 * console.assert(nodeUrl().pathToFileURL("/tmp").href.startsWith("file:"));
 * ```
 */
export const nodeUrl = (): typeof import("node:url") => urlModule ??= process.getBuiltinModule("node:url") as typeof import("node:url");

let osModule: typeof import("node:os") | undefined;
/**
 * `node:os`, loaded on first call.
 *
 * @example
 * ```ts
 * import { nodeOs } from "./src/runtime/builtins.ts";
 * console.assert(nodeOs().tmpdir().length > 0);
 * ```
 */
export const nodeOs = (): typeof import("node:os") => osModule ??= process.getBuiltinModule("node:os") as typeof import("node:os");

let cryptoModule: typeof import("node:crypto") | undefined;
/**
 * `node:crypto` (Node's, not the Web Crypto global `crypto`), loaded on
 * first call.
 *
 * @example
 * ```ts
 * import { nodeCrypto } from "./src/runtime/builtins.ts";
 * console.assert(nodeCrypto().createHash("sha256").update("x").digest("hex").length === 64);
 * ```
 */
export const nodeCrypto = (): typeof import("node:crypto") =>
  cryptoModule ??= process.getBuiltinModule("node:crypto") as typeof import("node:crypto");
