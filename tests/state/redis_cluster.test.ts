import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { config } from "../../src/config.ts";
import { contextFor, hashTagOf } from "../../src/state/redis.ts";
import { clientOptions } from "../../src/state/redis_client.ts";
import { clusterSeeds, isClusterUrl, routingKey } from "../../src/state/redis_cluster.ts";

test("a cluster URL names its seed nodes; credentials and TLS apply to each", () => {
  assert.ok(isClusterUrl("redis+cluster://h1:7000"));
  assert.ok(isClusterUrl("rediss+cluster://h1:7000"));
  assert.ok(!isClusterUrl("redis://h1:7000"));
  assert.deepEqual(clusterSeeds("redis+cluster://h1:7000,10.0.0.2:7001"), ["redis://h1:7000", "redis://10.0.0.2:7001"]);
  assert.deepEqual(clusterSeeds("rediss+cluster://u:p%40w@h1:7000,h2:7000/"), ["rediss://u:p%40w@h1:7000", "rediss://u:p%40w@h2:7000"]);
  assert.deepEqual(clientOptions("redis+cluster://h1:7000"), { cluster: true });
});

test("a malformed cluster URL is refused, with its password hidden", () => {
  for (const url of ["redis+cluster://", "redis+cluster://h1", "redis+cluster://h1:7000/2", "redis+cluster://u:secret@h1:7000,,h2:1"]) {
    assert.throws(() => clusterSeeds(url), (e: unknown) => e instanceof TypeError && !String((e as Error).message).includes("secret"), url);
  }
});

test("the config takes a cluster URL, and refuses braces in the prefix", () => {
  try {
    config.set({ redis: { url: "redis+cluster://127.0.0.1:7000,127.0.0.1:7001" } });
    assert.equal(config.get().redis.url, "redis+cluster://127.0.0.1:7000,127.0.0.1:7001");
    assert.throws(() => config.set({ redis: { prefix: "a{b}" } }), RangeError);
  } finally {
    config.reset();
  }
});

test("every key of one object shares its hash tag; different objects have different tags", () => {
  const ctx = contextFor({ url: "redis://127.0.0.1:1", prefix: "p", session: "s" });
  const a = [ctx.key("lock", "a"), ctx.key("lock", "a", "owner"), ctx.key("lock", "a", "w:1.2")].map(hashTagOf);
  assert.deepEqual(new Set(a), new Set(["{lock:a}"]));
  assert.notEqual(hashTagOf(ctx.key("lock", "b")), a[0]);
  assert.equal(hashTagOf("no-tag"), "{no-tag}");
  assert.equal(hashTagOf("x{}y{z}"), "{x{}y{z}}", "an empty first tag means the whole key is hashed");
});

test("commands are routed by the key they touch", () => {
  assert.equal(routingKey(["EVALSHA", "sha", "2", "k1", "k2", "arg"]), "k1");
  assert.equal(routingKey(["EVAL", "return 1", "0"]), undefined);
  assert.equal(routingKey(["BLPOP", "k", "1.000"]), "k");
  assert.equal(routingKey(["XREADGROUP", "GROUP", "g", "c", "BLOCK", "100", "STREAMS", "s1", ">"]), "s1");
  assert.equal(routingKey(["BLMPOP", "1.000", "2", "l1", "l2", "LEFT", "COUNT", "10"]), "l1");
  assert.equal(routingKey(["LMPOP", "1", "l1", "LEFT"]), "l1");
  assert.equal(routingKey(["XGROUP", "CREATE", "s1", "g", "0", "MKSTREAM"]), "s1");
  assert.equal(routingKey(["XINFO", "GROUPS", "s1"]), "s1");
  assert.equal(routingKey(["PING"]), undefined);
  assert.equal(routingKey(["SCAN", "0"]), undefined);
  const b = Buffer.from("bin");
  assert.equal(routingKey(["LPOP", b]), b);
});
