/**
 * Module refs that name skypool's own files (the futures executor ships
 * `src/executor/call_runner.ts` as a module ref) cannot travel as they
 * are: the caller's path does not exist on another machine, and a Deno
 * caller names a `.ts` file where a Node worker has `.js`. The caller
 * rewrites them to `skypool:src/…` (no extension) and the worker resolves
 * that against its own copy of skypool.
 *
 * @module
 */
import { SkypoolError } from "../errors.ts";
import type { FunctionRef } from "../task/function_loader.ts";

/** The scheme of a package-relative ref. */
export const PACKAGE_SCHEME = "skypool:";

/** This copy of skypool's root (the folder holding `src/`). */
const ROOT = new URL("../../", import.meta.url).href;
/** The extension this copy's modules have: `.ts` from source, `.js` in the npm build. */
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
/** What may follow `skypool:`: a path under src, without extension or `..`. */
const PACKAGE_PATH = /^src\/(?:[a-z0-9_]+\/)*[a-z0-9_]+$/;

/**
 * `ref` with skypool's own modules as `skypool:src/…`; every other ref as
 * it is (the transport bundles other `file:` modules).
 *
 * @example
 * ```ts
 * import { localRef, portableRef } from "./src/remote/portable_ref.ts";
 * // call_runner's file URL in this copy of skypool, and back:
 * const local = localRef({ kind: "module", id: "m:x", url: "skypool:src/executor/call_runner", exportName: "runShippedCalls" });
 * const ref = portableRef(local);
 * console.assert(ref.kind === "module" && ref.url === "skypool:src/executor/call_runner");
 * const other = portableRef({ kind: "module", id: "m:y", url: "file:///srv/app/work.ts", exportName: "f" });
 * console.assert(other.kind === "module" && other.url === "file:///srv/app/work.ts");
 * ```
 */
export function portableRef(ref: FunctionRef): FunctionRef {
  if (ref.kind !== "module" || !ref.url.startsWith(ROOT)) return ref;
  const path = ref.url.slice(ROOT.length).replace(/\.(?:ts|js)$/, "");
  return PACKAGE_PATH.test(path) ? { ...ref, url: PACKAGE_SCHEME + path } : ref;
}

/**
 * The ref a worker loads: `skypool:src/…` resolved against this copy of skypool.
 *
 * @example
 * ```ts
 * import { localRef } from "./src/remote/portable_ref.ts";
 * const ref = localRef({ kind: "module", id: "m:x", url: "skypool:src/executor/call_runner", exportName: "runShippedCalls" });
 * console.assert(ref.kind === "module" && ref.url.startsWith("file:") && /call_runner\.(ts|js)$/.test(ref.url));
 * ```
 * @throws {SkypoolError} for a `skypool:` path that is not a module path under `src/`.
 */
export function localRef(ref: FunctionRef): FunctionRef {
  if (ref.kind !== "module" || !ref.url.startsWith(PACKAGE_SCHEME)) return ref;
  const path = ref.url.slice(PACKAGE_SCHEME.length);
  if (!PACKAGE_PATH.test(path)) throw new SkypoolError(`${JSON.stringify(ref.url)} does not name a skypool module`);
  return { ...ref, url: new URL(path + EXT, ROOT).href };
}
