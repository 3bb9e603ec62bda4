// The transport registry: names resolve to factories, transport objects are
// checked for what the execution core calls, and Pool resolves through it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { registerTransport, resolveTransport, transportNames } from "../../src/execution/transport_registry.ts";
import { InlineTransport } from "../../src/transport/inline.ts";

describe("transport registry", () => {
  test("inline and local are registered", () => {
    assert.deepEqual(transportNames().slice(0, 2), ["inline", "local"]);
    assert.equal(resolveTransport("inline", {}).kind, "in-process");
  });

  test("a registered name is usable by Pool, and its factory gets the pool's size", async () => {
    const asked: (number | undefined)[] = [];
    registerTransport("counting-inline", (o) => {
      asked.push(o.processes);
      return new InlineTransport();
    });
    const pool = new Pool(3, { transport: "counting-inline" as never });
    try {
      assert.deepEqual(asked, [3]);
      assert.deepEqual(await pool.map((x: number) => x * 3, [1, 2]), [3, 6]);
    } finally {
      await pool.terminate();
    }
  });

  test("an unknown name is a RangeError listing the known ones", () => {
    assert.throws(() => resolveTransport("smoke-signals", {}), { name: "RangeError", message: /^transport must be "inline", "local".* or a Transport object, got "smoke-signals"$/ });
  });

  test("a transport object missing what the core calls is a TypeError naming it", () => {
    const base = { kind: "remote", name: "partial", size: 2, start() {}, submit() {}, close() {}, terminate() {} };
    assert.equal(resolveTransport(base, {}), base);
    assert.throws(() => resolveTransport({ ...base, submit: undefined }, {}), { name: "TypeError", message: /^transport\.submit must be a function, got undefined$/ });
    assert.throws(() => resolveTransport({ ...base, kind: "teleport" }, {}), { name: "TypeError", message: /kind must be "remote" or "in-process", got "teleport"/ });
    assert.throws(() => resolveTransport({ ...base, name: 7 }, {}), { name: "TypeError", message: /^transport\.name must be a string, got 7$/ });
    assert.throws(() => resolveTransport({ ...base, size: 0 }, {}), { name: "RangeError", message: /size must be a positive integer, got 0/ });
    assert.throws(() => resolveTransport(null, {}), { name: "TypeError", message: /^transport must be .* or a Transport object, got null$/ });
    assert.throws(() => new Pool({ transport: { ...base, close: 1 } as never }), { name: "TypeError", message: /^Pool transport\.close must be a function, got 1$/ });
  });

  test("registerTransport refuses a bad name or factory", () => {
    assert.throws(() => registerTransport("", () => new InlineTransport()), TypeError);
    assert.throws(() => registerTransport("x", 1 as never), { name: "TypeError", message: /factory of "x" must be a function/ });
  });
});
