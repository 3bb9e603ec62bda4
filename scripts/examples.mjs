// Runs every example in examples/ on Node (the compiled npm build) and on
// Deno (the TypeScript sources), failing on the first that fails.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deno = join(root, "node_modules", ".bin", "deno");
const examples = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".ts")).sort();
for (const ex of examples) {
  const name = ex.slice(0, -3);
  for (const [runtime, cmd, args] of [
    ["node", process.execPath, [join(root, "npm", "build", "examples", `${name}.js`)]],
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
