// Summarises several fresh runs of one benchmark: every figure the
// benchmark's JSON result holds (a number at the same place in each run's
// file) with its median over the runs and their spread (min–max, and the
// half-range as a share of the median), so that a committed figure says how
// far a rerun may land from it.
//
//   node scripts/bench_runs.mjs NAME RUN1.json RUN2.json RUN3.json…
//
// Writes bench/results/NAME_runs.md and NAME_runs.json. Lists of numbers
// (per-round samples) and text are left out: each run's file keeps them.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [name, ...files] = process.argv.slice(2);
if (!name || files.length < 2) {
  console.error("usage: node scripts/bench_runs.mjs NAME RUN1.json RUN2.json [RUN3.json…]");
  process.exit(2);
}

/** A label for an array element: its case/impl/name fields when it has them, else its index. */
function key(el, i) {
  if (el && typeof el === "object" && !Array.isArray(el)) {
    const parts = ["case", "impl", "name", "criterion", "runtime", "what"].filter((k) => typeof el[k] === "string").map((k) => el[k]);
    if (parts.length) return parts.join(" / ");
  }
  return String(i);
}

/** Every numeric leaf of `value`, by path. */
function leaves(value, path, out) {
  if (typeof value === "number" && Number.isFinite(value)) out.set(path, value);
  else if (Array.isArray(value)) {
    if (value.every((x) => typeof x === "number")) return out; // per-round samples
    value.forEach((el, i) => leaves(el, `${path}[${key(el, i)}]`, out));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out);
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x) => (Math.abs(x) >= 100 ? Math.round(x * 10) / 10 : Math.round(x * 1000) / 1000);

const runs = files.map((f) => JSON.parse(readFileSync(f, "utf8")));
const maps = runs.map((r) => leaves(r, "", new Map()));
const rows = [];
for (const [path] of maps[0]) {
  const xs = maps.map((m) => m.get(path));
  if (xs.some((x) => x === undefined)) continue;
  if (/(^|\.)(date|rounds|sampleMs|loadavg|pid)\b/i.test(path)) continue;
  const med = median(xs);
  const lo = Math.min(...xs), hi = Math.max(...xs);
  rows.push({
    figure: path,
    median: round(med),
    min: round(lo),
    max: round(hi),
    spread_pct: med === 0 ? null : Math.round(((hi - lo) / 2 / Math.abs(med)) * 1000) / 10,
    runs: xs.map(round),
  });
}
const md = [
  `# ${name}: ${runs.length} fresh runs`,
  "",
  `Each run is a separate invocation of the benchmark (\`scripts/bench_all.sh\`); dates: ${runs.map((r) => r.date ?? "?").join(", ")}.`,
  "Median over the runs, their range, and the spread (half the range as a share of the median): a rerun on the same machine",
  "is expected within that spread.",
  "",
  "| figure | median | min | max | spread ± % | runs |",
  "| --- | ---: | ---: | ---: | ---: | --- |",
  ...rows.map((r) => `| ${r.figure} | ${r.median} | ${r.min} | ${r.max} | ${r.spread_pct ?? ""} | ${r.runs.join(", ")} |`),
  "",
];
const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, `${name}_runs.md`), md.join("\n"));
writeFileSync(join(dir, `${name}_runs.json`), JSON.stringify({ name, runs: runs.length, dates: runs.map((r) => r.date ?? null), rows }, null, 2) + "\n");
console.log(`wrote bench/results/${name}_runs.md (${rows.length} figures over ${runs.length} runs)`);
