import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { config } from "../src/config.ts";

/** Runs `fn` with `skypool.config.json` content `json` (through SKYPOOL_CONFIG). */
function withConfigFile(json: unknown, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "skypool-config-"));
  const path = join(dir, "skypool.config.json");
  writeFileSync(path, JSON.stringify(json));
  process.env.SKYPOOL_CONFIG = path;
  try {
    config.reset();
    fn(path);
  } finally {
    delete process.env.SKYPOOL_CONFIG;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("config", () => {
  afterEach(() => {
    config.reset();
    delete process.env.SKYPOOL_LEASE_MS;
    delete process.env.SKYPOOL_TRANSPORT;
    delete process.env.SKYPOOL_PIPE_CONNECTION_TYPE;
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

  test("a set with one bad value changes nothing", () => {
    assert.throws(() => config.set({ leaseMs: 5, streamStdout: "yes" as never }), { name: "TypeError", message: /config\.streamStdout/ });
    assert.equal(config.get().leaseMs, 30_000);
    assert.equal(config.get().streamStdout, false);
  });

  test("object values are copied: changing the caller's object later changes nothing", () => {
    const vars: Record<string, string> = { A: "1" };
    config.set({ envVars: vars });
    vars.A = "2";
    vars.B = "3";
    assert.deepEqual(config.get().envVars, { A: "1" });
  });

  test("environment variables are parsed and checked like set() values, naming the variable", () => {
    process.env.SKYPOOL_LEASE_MS = "1.5";
    config.reset();
    assert.throws(() => config.get(), { name: "RangeError", message: /SKYPOOL_LEASE_MS.*"1\.5"/ });
    process.env.SKYPOOL_LEASE_MS = " 2500 ";
    process.env.SKYPOOL_PIPE_CONNECTION_TYPE = "tcp";
    config.reset();
    assert.throws(() => config.get(), { name: "RangeError", message: /SKYPOOL_PIPE_CONNECTION_TYPE.*"tcp"/ });
    delete process.env.SKYPOOL_PIPE_CONNECTION_TYPE;
    config.reset();
    assert.equal(config.get().leaseMs, 2500);
  });

  test("the config file is checked like set(), and its errors name the file and the option", () => {
    withConfigFile({ leaseMs: 1234, redis: { prefix: "filed" } }, () => {
      assert.equal(config.get().leaseMs, 1234);
      assert.equal(config.get().redis.prefix, "filed");
    });
    withConfigFile({ leaseMS: 1234 }, (path) => {
      assert.throws(() => config.get(), (e: unknown) => e instanceof TypeError && e.message.includes(path) && e.message.includes('"leaseMS"'));
    });
    withConfigFile({ redis: { prefix: "a:b" } }, (path) => {
      assert.throws(() => config.get(), (e: unknown) => e instanceof RangeError && e.message.includes(path) && e.message.includes("config.redis.prefix"));
    });
  });

  test("a bad Redis URL is refused without showing its password", () => {
    assert.throws(() => config.set({ redis: { url: "http://app:hunter2@db:6379/?password=hunter2" } }), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /config\.redis\.url/);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
    config.set({ redis: { url: "unix:///tmp/r.sock" } });
    assert.equal(config.get().redis.url, "unix:///tmp/r.sock");
  });
});
