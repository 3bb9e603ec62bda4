// What the benchmarks share: finding the repo (from bench/ or, compiled,
// npm/build/bench/) and the median. A folder of its own, so that
// bench/run.mjs does not take it for a benchmark.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repo root, searched upwards from `fromUrl` (a benchmark's `import.meta.url`). */
export function repoRoot(fromUrl: string): string {
  let dir = dirname(fileURLToPath(fromUrl));
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
