import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { repoRoot } from "./helpers/repo_root.ts";

function repoFile(rel: string): string {
  return readFileSync(new URL(rel, repoRoot()), "utf8");
}

test("every README example is exactly its file in examples/", () => {
  const readme = repoFile("README.md");
  const blocks = [...readme.matchAll(/<!-- example: (examples\/\w+\.(?:ts|mjs)) -->\n```(?:ts|js)\n([\s\S]*?)```/g)];
  assert.ok(blocks.length >= 4, `expected at least 4 example blocks, found ${blocks.length}`);
  for (const [, path, code] of blocks) {
    const file = repoFile(path).replace('from "../mod.ts"', 'from "skypool"');
    assert.equal(code, file, `README block for ${path} differs from the file`);
  }
});

test("the README's plain-JavaScript example runs as written on this runtime", () => {
  // As a user's .mjs file would: the same text with `skypool` resolved to
  // this build (the compiled mod.js on Node, mod.ts on Deno).
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
  const mod = new URL(`../mod${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url).href;
  const code = repoFile("examples/quickstart.mjs").replace('from "../mod.ts"', `from ${JSON.stringify(mod)}`);
  const dir = mkdtempSync(join(tmpdir(), "skypool-readme-"));
  try {
    const file = join(dir, "quickstart.mjs");
    writeFileSync(file, code);
    const args = isDeno ? ["run", "-A", "--config", fileURLToPath(new URL("deno.json", repoRoot())), file] : [file];
    const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr}`);
    assert.equal(r.stdout, "[ 1, 4, 9 ]\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
