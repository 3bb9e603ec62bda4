// Runs every example in examples/ on Node (the compiled npm build) and on
// Deno (the TypeScript sources), failing on the first that fails.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deno = join(root, "node_modules", ".bin", "deno");
const examples = readdirSync(join(root, "examples")).filter((f) => /\.(?:ts|mjs)$/.test(f)).sort();
// Plain-JavaScript examples run as written on Node, with `../mod.ts` pointed
// at the compiled build (which is what `skypool` resolves to for npm users).
const tmp = mkdtempSync(join(tmpdir(), "skypool-examples-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
function nodeEntry(ex) {
  if (ex.endsWith(".ts")) return join(root, "npm", "build", "examples", ex.replace(/\.ts$/, ".js"));
  const mod = pathToFileURL(join(root, "npm", "build", "mod.js")).href;
  const file = join(tmp, ex);
  writeFileSync(file, readFileSync(join(root, "examples", ex), "utf8").replace('from "../mod.ts"', `from ${JSON.stringify(mod)}`));
  return file;
}
for (const ex of examples) {
  const name = ex.replace(/\.(?:ts|mjs)$/, "");
  for (const [runtime, cmd, args] of [
    ["node", process.execPath, [nodeEntry(ex)]],
    ["deno", deno, ["run", "-A", join(root, "examples", ex)]],
  ]) {
    console.log(`\n== ${name} on ${runtime}`);
    const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", timeout: 120_000 });
    if (r.status !== 0) {
      console.error(`example ${name} failed on ${runtime} (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
      process.exit(1);
    }
  }
}
