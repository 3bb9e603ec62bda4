import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";

// The tests run from tests/ (Deno) or from a build folder's tests/ (Node):
// find the repository root by walking up to the folder holding package.json.
function repoFile(rel: string): string {
  let dir = new URL("./", import.meta.url);
  for (let i = 0; i < 6; i++) {
    if (existsSync(new URL("package.json", dir)) && existsSync(new URL("examples/", dir))) {
      return readFileSync(new URL(rel, dir), "utf8");
    }
    dir = new URL("../", dir);
  }
  throw new Error(`cannot find the repository root above ${import.meta.url}`);
}

test("every README example is exactly its file in examples/", () => {
  const readme = repoFile("README.md");
  const blocks = [...readme.matchAll(/<!-- example: (examples\/\w+\.ts) -->\n```ts\n([\s\S]*?)```/g)];
  assert.ok(blocks.length >= 3, `expected at least 3 example blocks, found ${blocks.length}`);
  for (const [, path, code] of blocks) {
    const file = repoFile(path).replace('from "../mod.ts"', 'from "skypool"');
    assert.equal(code, file, `README block for ${path} differs from the file`);
  }
});
