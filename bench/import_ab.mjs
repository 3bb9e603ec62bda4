// A/B of `import "skypool"` on Node between two builds of the npm package:
// `node bench/import_ab.mjs DIR_A DIR_B [PAIRS]` imports DIR_A/mod.js and
// DIR_B/mod.js in fresh processes, alternately, PAIRS times (default 15),
// and prints each side's median and the median of the per-pair ratios
// B ÷ A (both samples of a pair taken back to back, so the machine's load
// falls on both alike). Each directory needs node_modules reachable from it
// (copy a build with `cp -r npm/package DIR` and link the repo's
// node_modules into it).
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { pairedAb } from "./lib/paired_ab.mjs";

const [a, b, pairsArg] = process.argv.slice(2);
if (!a || !b) {
  console.error("usage: node bench/import_ab.mjs DIR_A DIR_B [PAIRS]");
  process.exit(2);
}
const pairs = Number(pairsArg ?? 15);
if (!Number.isInteger(pairs) || pairs < 1) throw new RangeError(`PAIRS must be a positive integer, got ${pairsArg}`);

const code = (dir) =>
  `const t=performance.now();await import(${JSON.stringify(pathToFileURL(resolve(dir, "mod.js")).href)});` +
  `console.log(performance.now()-t)`;
function once(dir) {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code(dir)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`import of ${dir} failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}
pairedAb(pairs, a, b, once);
