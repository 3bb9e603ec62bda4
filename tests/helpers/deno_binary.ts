/**
 * The `deno` command for tests that run Deno's own tooling (`deno bundle`,
 * `deno info`) under either runtime.
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";

/** The `deno` binary running, or the one from node_modules under Node (`undefined` when not installed). */
export function denoBinary(): string[] | undefined {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return [deno.execPath()];
  try {
    return [process.execPath, join(dirname(createRequire(import.meta.url).resolve("deno/package.json")), "bin.cjs")];
  } catch {
    return undefined;
  }
}
