import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

// The tests run from tests/ (Deno) or npm/build/tests/ (Node): find the
// repository root by walking up to the README.
function repoFile(rel: string): string {
  for (const up of ["../", "../../../"]) {
    try {
      return readFileSync(new URL(up + rel, import.meta.url), "utf8");
    } catch {
      // try the next level
    }
  }
  throw new Error(`cannot find ${rel} above ${import.meta.url}`);
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
