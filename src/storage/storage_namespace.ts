/**
 * Where a program run's objects go in `Storage`: under
 * `{prefix}/{session}/`, the storage counterpart of the Redis namespace
 * `{prefix}:{session}:`, so that `skypool clean` finds them. Anything
 * skypool itself stores (call data too large for a message) goes there.
 *
 * @module
 */

/**
 * The storage key prefix of `session` under `prefix` (`"skypool/ab12/"`),
 * or of every session under `prefix` when `session` is omitted.
 *
 * @example
 * ```ts
 * import { storageNamespace } from "./src/storage/storage_namespace.ts";
 * console.assert(storageNamespace("skypool", "ab12") === "skypool/ab12/");
 * console.assert(storageNamespace("skypool") === "skypool/");
 * ```
 * @throws {TypeError} for a prefix or session that is empty or holds `/`.
 */
export function storageNamespace(prefix: string, session?: string): string {
  for (const [what, v] of [["prefix", prefix], ["session", session]] as const) {
    if (v === undefined && what === "session") continue;
    if (typeof v !== "string" || v === "" || v.includes("/") || v === "." || v === "..") {
      throw new TypeError(`storageNamespace: ${what} must be a non-empty string without '/', got ${JSON.stringify(v)}`);
    }
  }
  return session === undefined ? `${prefix}/` : `${prefix}/${session}/`;
}
