/**
 * Child-process side of the import test: imports the package, reports how
 * many node-redis modules are loaded, then loads node-redis the way the
 * first connection does and reports again (`before N after M`).
 *
 * @module
 */
import { createRequire } from "node:module";
import process from "node:process";

const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => /[\\/]@?redis[\\/]/.test(k)).length;
await import("../../mod.ts");
const before = loaded();
const { loadDriver } = await import("../../src/state/redis_client.ts");
await loadDriver();
process.stdout.write(`before ${before} after ${loaded()}\n`);
