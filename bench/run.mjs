// `npm run bench -- <name>`: builds the package, then runs the compiled
// benchmark `bench/<name>.ts` on Node. A benchmark that compares runtimes
// (Deno, CPython) starts those itself, so one run holds every figure.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const available = readdirSync(join(root, "bench")).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3));
const names = process.argv.slice(2);
if (names.length === 0 || names.some((n) => !available.includes(n))) {
  console.error(`usage: npm run bench -- <${available.join("|")}> [...]`);
  process.exit(2);
}
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(process.execPath, [join(root, "npm", "build.mjs")]);
for (const name of names) {
  const compiled = join(root, "npm", "build", "bench", `${name}.js`);
  if (!existsSync(compiled)) throw new Error(`${compiled} was not built`);
  run(process.execPath, [compiled]);
}
