/**
 * Child-process side of the built-ins test: records every
 * `process.getBuiltinModule` lookup, imports the package, then reads the
 * configuration (which looks for a config file), and prints one JSON line:
 * `{ atImport, afterConfig }`, the ids looked up by each step.
 *
 * @module
 */
import process from "node:process";

const looked: string[] = [];
const lookup = process.getBuiltinModule;
process.getBuiltinModule = ((id: string) => {
  looked.push(id);
  return lookup.call(process, id);
}) as typeof lookup;

const { config } = await import("../../mod.ts");
const atImport = looked.splice(0);
config.get();
process.stdout.write(JSON.stringify({ atImport, afterConfig: looked }) + "\n");
