/**
 * The repository root, for tests that read its files: they run from
 * tests/ (Deno) or from a build folder's tests/ (Node), so walk up to the
 * folder holding README.md and examples/ (a build folder has its own
 * package.json and compiled examples, but no README).
 *
 * @module
 */
import { existsSync } from "node:fs";

export function repoRoot(): URL {
  let dir = new URL("./", import.meta.url);
  for (let i = 0; i < 6; i++) {
    if (existsSync(new URL("README.md", dir)) && existsSync(new URL("examples/", dir))) return dir;
    dir = new URL("../", dir);
  }
  throw new Error(`cannot find the repository root above ${import.meta.url}`);
}
