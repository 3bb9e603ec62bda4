// The worker socket's folder: it exists while local workers do, and goes
// with the last of them (`deno test` runs no exit handlers, so "removed at
// exit" would leave it behind). A file of its own: no other transport of
// this process may hold the socket while it runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "../../mod.ts";
import { withTimeout } from "../helpers/pool_fixtures.ts";

const socketDirs = (): string[] =>
  [...new Set([tmpdir(), "/tmp"])].flatMap((d) => readdirSync(d).filter((n) => n.startsWith("skypool-")).map((n) => join(d, n)))
    .filter((d) => existsSync(join(d, "w.sock")));

test("terminate() removes the worker socket's folder; the next pool makes it again, and it goes again", { timeout: 120_000 }, async () => {
  const before = new Set(socketDirs());
  const seen: string[] = [];
  for (let round = 0; round < 2; round++) {
    const pool = new Pool(2);
    try {
      assert.deepEqual(await withTimeout(pool.starmap((x: number, k: number) => x + k, [[1, round], [2, round]]), 60_000, "map"), [1 + round, 2 + round]);
      const made = socketDirs().filter((d) => !before.has(d));
      assert.equal(made.length, 1, `round ${round}: expected this program's socket folder, found ${JSON.stringify(made)}`);
      seen.push(made[0]);
    } finally {
      await withTimeout(pool.terminate(), 15_000, "terminate");
    }
    assert.equal(existsSync(seen[round]), false, `round ${round}: ${seen[round]} is still there after terminate()`);
  }
  assert.equal(seen[1], seen[0], "the folder is made again at the same path (the one the reaper knows)");
});
