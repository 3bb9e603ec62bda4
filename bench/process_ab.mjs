// A/B of a whole process between two checkouts (or builds):
// `node bench/process_ab.mjs [--pairs N] DIR_A DIR_B CMD ARG…` runs CMD in
// DIR_A and in DIR_B (as the working directory, `{}` in an argument
// replaced by the directory), alternately, N times each (default 15), and
// prints each side's median wall time and the median of the per-pair
// ratios B ÷ A (both samples of a pair back to back, so the machine's load
// falls on both alike). Example, the Deno one-shot script before and after
// a change kept in a worktree:
//   node bench/process_ab.mjs /tmp/old . node_modules/.bin/deno run -A --no-check bench/startup_oneshot.ts
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { pairedAb } from "./lib/paired_ab.mjs";

const argv = process.argv.slice(2);
let pairs = 15;
if (argv[0] === "--pairs") {
  pairs = Number(argv[1]);
  argv.splice(0, 2);
}
const [a, b, cmd, ...args] = argv;
if (!a || !b || !cmd || !Number.isInteger(pairs) || pairs < 1) {
  console.error("usage: node bench/process_ab.mjs [--pairs N] DIR_A DIR_B CMD [ARG…]");
  process.exit(2);
}

function once(dir) {
  const abs = resolve(dir);
  const t0 = performance.now();
  const r = spawnSync(cmd, args.map((x) => x.replaceAll("{}", abs)), { cwd: abs, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} in ${dir} failed (${r.status ?? r.error}): ${r.stderr}`);
  return ms;
}
pairedAb(pairs, a, b, once);
