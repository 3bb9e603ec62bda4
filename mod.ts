/**
 * skypool: Python's `multiprocessing` API and Lithops' futures API for
 * TypeScript on Deno and Node.
 *
 * @module
 */
export * from "./src/errors.ts";
export { config } from "./src/config.ts";
export type { ConfigUpdate, ParameterName, SkypoolConfig } from "./src/config.ts";
