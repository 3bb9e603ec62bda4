import { test } from "node:test";
import assert from "node:assert/strict";
import { cborDecoder, defineTag, preloadDecoder } from "../../src/task/cbor_decoder.ts";
import { runProbe } from "../helpers/run_probe.ts";

const probeOutput = async (): Promise<string> => (await runProbe("decoder_probe")).stdout;

test("importing the package loads no cbor-x; a decode before the fast decoder lands uses the fallback, which reads the same", async () => {
  const r = JSON.parse(await probeOutput());
  assert.equal(r.afterImport, "none", "a decoder was loaded by the import alone");
  assert.equal(r.firstState, "fallback");
  assert.equal(r.afterPreload, "fast");
  assert.equal(r.first.self, true);
  assert.equal(r.first.rows.length, 50);
  assert.deepEqual(r.first.rows[7], [7, "row 7", [7], String(1n << 7n)]);
  assert.deepEqual(r.second, r.first);
});

test("a tag defined once a decoder is loaded is refused (the other decoder would miss it)", async () => {
  await preloadDecoder();
  cborDecoder();
  assert.throws(() => defineTag(1299, (c: never) => c), /already loaded/);
});
