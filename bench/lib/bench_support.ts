/**
 * Small helpers the benchmarks share: finding the repo root from a source
 * or compiled bench, and medians.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repo root, found upwards from `moduleUrl` (bench/ in source, npm/build/bench/ compiled). */
export function repoRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "skypool-dev") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("bench: cannot find the skypool repo root");
    dir = up;
  }
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
