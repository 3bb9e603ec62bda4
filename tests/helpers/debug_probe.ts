/**
 * Child-process side of the logging test: imports the package, reports how
 * many modules of the `debug` package are loaded (`loaded N`), then runs a
 * small map so that the pool logs (under `DEBUG=skypool:*` it writes to
 * stderr), and reports again after the logs had time to flush.
 *
 * @module
 */
import { createRequire } from "node:module";
import process from "node:process";

const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => /[\\/]node_modules[\\/]debug[\\/]/.test(k)).length;
const { Pool } = await import("../../mod.ts");
process.stdout.write(`after import ${loaded()}\n`);
const pool = new Pool(1);
try {
  await pool.map((x: number) => x + 1, [1, 2, 3]);
} finally {
  await pool.terminate();
}
await new Promise((resolve) => setTimeout(resolve, 100));
process.stdout.write(`after map ${loaded()}\n`);
