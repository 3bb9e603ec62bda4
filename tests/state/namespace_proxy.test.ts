import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { NamespaceProxy } from "../../src/state/namespace_proxy.ts";
import { Manager } from "../../src/state/manager.ts";
import { Pool } from "../../src/pool.ts";
import { task } from "../../src/task/function_ref.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { SerializationError } from "../../src/errors.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";
import { setUpRedis, tearDownRedis } from "../helpers/state_setup.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const tasks = new URL(`./manager_tasks${ext}`, import.meta.url);

let server: TestRedisServer;
let manager: Manager;

describe("NamespaceProxy", () => {
  before(async () => {
    server = await setUpRedis();
    manager = await new Manager().start();
  });
  after(async () => {
    try {
      assert.deepEqual(await server.keysWithoutTtl(), [], "every key has a TTL");
    } finally {
      await manager?.shutdown();
      await tearDownRedis(server);
    }
  });

  test("MGR-10: set, get, delete and has; names starting with _ are shared like any other", async () => {
    const n = manager.Namespace();
    await n.set("name", "Bob");
    await n.set("job", "Builder");
    await n.set("_hidden", "hidden");
    assert.deepEqual([await n.get("name"), await n.get("job")], ["Bob", "Builder"]);
    assert.equal(await n.delete("job"), true);
    assert.equal(await n.delete("job"), false);
    assert.equal(await n.has("name"), true);
    assert.equal(await n.has("job"), false);
    assert.equal(await n.get("job"), undefined);
    const other = decode(encode(n)) as NamespaceProxy;
    assert.equal(await other.get("_hidden"), "hidden");
    assert.deepEqual(await n.toObject(), { name: "Bob", _hidden: "hidden" });
  });

  test("initial names; a stored undefined is told apart from a missing name by has()", async () => {
    const n = manager.Namespace({ x: 0, y: undefined });
    assert.equal(await n.get("x"), 0);
    assert.equal(await n.get("y"), undefined);
    assert.equal(await n.has("y"), true);
    assert.equal(await n.has("z"), false);
  });

  test("bad names are a TypeError; unserializable values a SerializationError; nothing is written", async () => {
    const n = manager.Namespace();
    for (const bad of ["", 1, null, undefined, Symbol("s")]) {
      await assert.rejects(n.set(bad as never, 1), TypeError);
      await assert.rejects(n.get(bad as never), TypeError);
    }
    await assert.rejects(n.set("f", () => 1), SerializationError);
    assert.deepEqual(await n.toObject(), {});
    assert.throws(() => manager.Namespace([["a", 1]] as never), TypeError);
    assert.throws(() => manager.Namespace({ "": 1 }), TypeError);
    assert.throws(() => manager.Namespace({ f: () => 1 }), SerializationError);
  });

  test("MGRT-03: names set in the parent are read in a worker process, and the reverse", async () => {
    const n = manager.Namespace({ x: 0 });
    await n.set("y", 1);
    await using pool = new Pool(1);
    assert.deepEqual(await pool.apply(task(tasks, "namespaceWorkout"), [n]), [0, 1, false]);
    assert.deepEqual(await n.get("fromChild"), [0, 1]);
  });
});
