import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { crc32cUpdate, findByte, SCRATCH_SIZE, wasmCore } from "../../src/task/wasm_core.ts";
import { WASM_BYTE_LENGTH, WASM_SHA256, wasmBytes } from "../../wasm/skypool_core.ts";

const hex = (buf: ArrayBuffer) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

describe("wasm core", () => {
  test("the embedded module is the one generated with it: its length and SHA-256 match the generated header (npm run build:wasm -- --check, run by CI, ties them to the Rust source)", async () => {
    const bytes = wasmBytes();
    assert.equal(bytes.length, WASM_BYTE_LENGTH);
    assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0x00, 0x61, 0x73, 0x6d]); // "\0asm"
    assert.equal(hex(await crypto.subtle.digest("SHA-256", bytes)), WASM_SHA256);
  });

  test("is instantiated once and exports the C ABI", () => {
    const core = wasmCore();
    assert.equal(wasmCore(), core);
    for (const name of ["sk_alloc", "sk_free", "sk_crc32c", "sk_crc32c_combine", "sk_find_byte"] as const) {
      assert.equal(typeof core.exports[name], "function", name);
    }
    assert.ok(core.scratch > 0 && core.scratch + SCRATCH_SIZE <= core.heap().length);
  });

  test("views stay valid across memory growth", () => {
    const core = wasmCore();
    const before = core.heap();
    const size = 32 << 20; // more than the initial memory: forces growth
    const p = core.alloc(size);
    const after = core.heap();
    assert.ok(after.length >= p + size, "heap() covers the new block");
    assert.ok(after.length > before.length);
    assert.equal(before.byteLength, 0, "the old view was detached by growth");
    after.fill(7, p, p + size);
    assert.equal(core.heap()[p + size - 1], 7);
    // The scratch block and the kernels still work after growth.
    const data = new TextEncoder().encode("123456789");
    assert.equal(crc32cUpdate(0, data, 0, data.length), 0xe3069283);
    assert.equal(findByte(data, 0x35, 0, data.length), 4);
    core.free(p, size);
  });

  test("alloc rejects sizes that are not positive integers", () => {
    const core = wasmCore();
    for (const bad of [0, -1, 1.5, NaN, 2 ** 31]) assert.throws(() => core.alloc(bad), RangeError, String(bad));
  });

  test("findByte searches only the given range", () => {
    const bytes = new Uint8Array(200_000);
    bytes[10] = 1;
    bytes[150_000] = 1;
    assert.equal(findByte(bytes, 1, 0, 200_000), 10);
    assert.equal(findByte(bytes, 1, 11, 200_000), 150_000);
    assert.equal(findByte(bytes, 1, 11, 150_000), -1);
    assert.equal(findByte(bytes, 1, 150_001, 200_000), -1);
  });
});
