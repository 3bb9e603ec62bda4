/**
 * The exports of a CommonJS package loaded with a dynamic `import()`.
 * Node and Deno give its named exports on the namespace; a code-split
 * esbuild bundle (the Lambda runtime `skypool runtime build` makes) gives
 * only `default`, the `module.exports` object. Reading through this works
 * in both.
 *
 * @module
 */

/**
 * `namespace` when it holds the export `probe`, else its `default`.
 *
 * @example
 * ```ts
 * import { cjsExports } from "./src/task/cjs_exports.ts";
 * const bundled = { default: { createClient: () => "client" } };
 * console.assert(cjsExports(bundled as unknown as { createClient(): string }, "createClient").createClient() === "client");
 * ```
 */
export function cjsExports<T extends object>(namespace: T, probe: keyof T & string): T {
  if ((namespace as Record<string, unknown>)[probe] !== undefined) return namespace;
  return ((namespace as { default?: T }).default ?? namespace) as T;
}
