// Runs the `@example` blocks of the JSDoc in mod.ts and src/ as tests
// (`deno test --doc`), type-checked and executed.
//
//   node scripts/doc_test.mjs [deno test flags…] [files…]   (default: mod.ts src/)
//
// The examples import relative to the repository root (`./mod.ts`,
// `./src/pool.ts`), as a reader of the repository would, but Deno resolves a
// code block's imports relative to the file that holds it. A generated import
// map sends `./src/…` and `./mod.ts` seen from any folder under src/ back to
// the root, so each example runs exactly as written.
//
// Deno's `console.assert` prints "Assertion failed" and carries on, so the
// run also fails when that line appears in the output: an example's
// assertions are checked, not only its absence of exceptions.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deno = join(root, "node_modules", ".bin", "deno");
const url = (p) => pathToFileURL(join(root, p)).href;

function folders(dir) {
  const out = [dir];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...folders(`${dir}/${e.name}`));
  }
  return out;
}

const imports = {};
for (const dir of folders("src")) {
  imports[`${url(dir)}/src/`] = `${url("src")}/`;
  imports[`${url(dir)}/mod.ts`] = url("mod.ts");
}
const tmp = mkdtempSync(join(tmpdir(), "skypool-doctest-"));
const map = join(tmp, "import_map.json");
writeFileSync(map, JSON.stringify({ imports }, null, 2));
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith("-"));
const files = args.filter((a) => !a.startsWith("-"));
let status = 1;
let assertionFailed = false;
try {
  const child = spawn(
    deno,
    ["test", "-A", "--doc", `--import-map=${map}`, ...flags, ...(files.length ? files : ["mod.ts", "fetch.ts", "worker.ts", "lambda.ts", "testing.ts", "src/"].filter((f) => existsSync(join(root, f))))],
    // Examples that write files (storage, partitions, payloads) do so under the
    // temp dir, which is this run's own folder, removed below: a run leaves nothing behind.
    { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TMPDIR: tmp } },
  );
  const watch = (from, to) =>
    from.on("data", (chunk) => {
      to.write(chunk);
      if (chunk.toString().includes("Assertion failed")) assertionFailed = true;
    });
  watch(child.stdout, process.stdout);
  watch(child.stderr, process.stderr);
  const timer = setTimeout(() => child.kill("SIGTERM"), 900_000);
  status = await new Promise((res) => {
    child.on("error", (e) => {
      console.error(`deno test --doc failed to run: ${e.message}`);
      res(1);
    });
    child.on("close", (code) => res(code ?? 1));
  });
  clearTimeout(timer);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (assertionFailed) {
  console.error("doc tests: an example's console.assert failed (see \"Assertion failed\" above)");
  status = 1;
}
process.exit(status);
