// What the benchmarks share: finding the repo (from bench/ or, compiled,
// npm/build/bench/) and the median. A folder of its own, so that
// bench/run.mjs does not take it for a benchmark.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const isRepo = (dir: string): boolean => {
  const pkg = join(dir, "package.json");
  return existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "skypool-dev";
};

/**
 * The repo root, searched upwards from `fromUrl` (a benchmark's
 * `import.meta.url`); else the working directory, when it is the repo (a
 * copy of the build run from the repo root).
 */
export function repoRoot(fromUrl: string): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (isRepo(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  if (isRepo(process.cwd())) return process.cwd();
  throw new Error("bench: cannot find the skypool repo root (run from it)");
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
