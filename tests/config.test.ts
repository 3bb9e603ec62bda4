import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { config } from "../src/config.ts";

describe("config", () => {
  afterEach(() => {
    config.reset();
    delete process.env.SKYPOOL_LEASE_MS;
    delete process.env.SKYPOOL_TRANSPORT;
  });

  test("defaults match SPEC", () => {
    const c = config.get();
    assert.equal(c.leaseMs, 30_000);
    assert.equal(c.redisExpiryTime, 3600);
    assert.equal(c.pipeConnectionType, "redislist");
  });

  test("programmatic settings win over the environment, which wins over defaults", () => {
    process.env.SKYPOOL_LEASE_MS = "1234";
    config.reset();
    assert.equal(config.get().leaseMs, 1234);
    config.set({ leaseMs: 999 });
    assert.equal(config.get().leaseMs, 999);
    config.reset();
    assert.equal(config.get().leaseMs, 1234);
  });

  test("the environment is read on first use and again after reset()", () => {
    assert.equal(config.get().transport, "local");
    process.env.SKYPOOL_TRANSPORT = "inline";
    assert.equal(config.get().transport, "local");
    config.reset();
    assert.equal(config.get().transport, "inline");
  });

  test("setParameter maps the Lithops names", () => {
    config.setParameter(config.REDIS_EXPIRY_TIME, 60);
    config.setParameter(config.STREAM_STDOUT, true);
    assert.equal(config.get().redisExpiryTime, 60);
    assert.equal(config.get().streamStdout, true);
  });

  test("nested redis settings merge instead of replacing", () => {
    config.set({ redis: { url: "redis://127.0.0.1:1" } });
    assert.equal(config.get().redis.url, "redis://127.0.0.1:1");
    assert.equal(config.get().redis.prefix, "skypool");
  });

  test("bad values are refused with a message naming them", () => {
    assert.throws(() => config.set({ leaseMs: -5 }), { name: "RangeError", message: /leaseMs/ });
    assert.throws(() => config.set({ pipeConnectionType: "tcp" as never }), { name: "RangeError", message: /pipeConnectionType/ });
    assert.throws(() => config.setParameter("NOPE" as never, 1), { name: "TypeError", message: /unknown parameter "NOPE"/ });
    assert.throws(() => config.set(null as never), TypeError);
    process.env.SKYPOOL_LEASE_MS = "soon";
    config.reset();
    assert.throws(() => config.get(), { name: "RangeError", message: /SKYPOOL_LEASE_MS/ });
  });

  test("the returned config cannot be changed by a caller", () => {
    const c = config.get();
    assert.throws(() => {
      (c as { leaseMs: number }).leaseMs = 1;
    }, TypeError);
  });
});
