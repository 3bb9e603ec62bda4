/**
 * Child-process side of the import test on Deno: watches Deno's Node
 * globals (see `watch_node_globals.ts`), imports the package and prints one
 * JSON line: `{ atImport, ms }`, the globals the import read and how long
 * it took.
 *
 * @module
 */
import { globalsRead } from "./watch_node_globals.ts";

const t0 = performance.now();
await import("../../mod.ts");
const ms = performance.now() - t0;
console.log(JSON.stringify({ atImport: [...globalsRead], ms }));
