// Pool, Process and FunctionExecutor on `transport: "http"`, and shared
// state across it: handles on a TCP Redis work in http tasks; a handle on
// the private embedded Redis is a clear error naming SKYPOOL_REDIS_URL.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { config } from "../../src/config.ts";
import { StateError } from "../../src/errors.ts";
import { FunctionExecutor } from "../../src/executor/function_executor.ts";
import { Pool } from "../../src/pool.ts";
import { Process } from "../../src/process.ts";
import { currentEmbeddedServer } from "../../src/state/embedded_server.ts";
import { Lock } from "../../src/state/lock.ts";
import { Queue } from "../../src/state/queue.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import { RawValue } from "../../src/state/value.ts";
import { type HttpWorker, startInProcessWorker } from "../helpers/http_worker.ts";
import { initSetGlobal, makeTempDir, readInitGlobal, removeDir, withTimeout, writeJson } from "../helpers/pool_fixtures.ts";
import { startRedisServer, type TestRedisServer } from "../helpers/redis_server.ts";
import { checkEveryResultOnce, SCALE_ITEMS } from "../helpers/scale_checks.ts";

const KEY = "http-api-test-key-0123456789";

describe("the public API on the http transport", () => {
  let worker: HttpWorker;
  let dir: string;
  before(async () => {
    worker = await startInProcessWorker();
    config.set({ authkey: KEY, http: { url: worker.url } });
    dir = await makeTempDir("skypool-http-api-");
  });
  after(async () => {
    await worker.stop();
    config.reset();
    await removeDir(dir);
  });

  test("Pool.map and apply run on the worker endpoint", async () => {
    const pool = new Pool({ processes: 2, transport: "http" });
    try {
      assert.equal(pool.processes, 2);
      assert.deepEqual(await withTimeout(pool.map((x: number) => x * 2, [1, 2, 3, 4, 5], 2), 30_000, "map"), [2, 4, 6, 8, 10]);
      assert.equal(await withTimeout(pool.apply((a: number, b: number) => a + b, [2, 3]), 30_000, "apply"), 5);
    } finally {
      await pool.terminate();
    }
    assert.ok(worker.requests >= 4, `the endpoint saw ${worker.requests} requests`);
  });

  test(`Pool.map, imapUnordered and FunctionExecutor.map over ${SCALE_ITEMS} one-item batches each: every result exactly once`, { timeout: 120_000 }, async () => {
    await checkEveryResultOnce("http", 4);
  });

  test("a Pool's initializer runs on the worker before its tasks", async () => {
    const tag = `init-${Math.random()}`;
    const pool = new Pool({ processes: 1, transport: "http", initializer: initSetGlobal, initargs: [tag] });
    try {
      const seen = await withTimeout(pool.apply(readInitGlobal, []), 30_000, "apply") as { value: unknown };
      assert.equal(seen.value, tag);
    } finally {
      await pool.terminate();
    }
  });

  test("Process runs its target there: exitcode 0, or 1 with the error", async () => {
    const path = join(dir, "process.json");
    const ok = new Process({ target: writeJson, args: [path, "from", "http"], transport: "http" });
    ok.start();
    await withTimeout(ok.join(), 30_000, "join");
    assert.equal(ok.exitcode, 0);
    assert.equal(ok.pid, undefined);
    assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), ["from", "http"]);
    const bad = new Process({ target: (m: string) => { throw new RangeError(m); }, args: ["boom"], transport: "http" });
    bad.start();
    await withTimeout(bad.join(), 30_000, "join");
    assert.equal(bad.exitcode, 1);
    assert.ok(bad.error instanceof RangeError && bad.error.message === "boom");
  });

  test("FunctionExecutor maps there (its batch runner resolves on the worker's own skypool)", async () => {
    const fexec = new FunctionExecutor({ transport: "http", workers: 2 });
    try {
      const fs = await fexec.map((x: number) => `=${x}`, [1, 2, 3]);
      assert.deepEqual(await withTimeout(fexec.getResult(fs), 30_000, "map"), ["=1", "=2", "=3"]);
    } finally {
      await fexec[Symbol.asyncDispose]();
    }
  });

  test("a handle on the private embedded Redis is refused, naming SKYPOOL_REDIS_URL", async () => {
    const saved = process.env.SKYPOOL_REDIS_URL;
    delete process.env.SKYPOOL_REDIS_URL;
    config.reset();
    config.set({ authkey: KEY, http: { url: worker.url } });
    const pool = new Pool({ processes: 1, transport: "http" });
    try {
      const lock = new Lock();
      await assert.rejects(
        withTimeout(pool.apply(async (l: Lock) => await l.acquire(), [lock]), 30_000, "apply"),
        (err: Error) => err instanceof StateError && /private embedded Redis/.test(err.message) && /SKYPOOL_REDIS_URL/.test(err.message),
      );
    } finally {
      await pool.terminate();
      await closeAllConnections();
      await currentEmbeddedServer()?.stop();
      if (saved !== undefined) process.env.SKYPOOL_REDIS_URL = saved;
    }
  });

  describe("with a TCP Redis", () => {
    let redis: TestRedisServer;
    before(async () => {
      redis = await startRedisServer();
      config.set({ redis: { url: redis.url } });
    });
    after(async () => {
      await closeAllConnections();
      await redis.stop();
    });

    test("a Lock, a Queue and a Value work in http tasks", async () => {
      const pool = new Pool({ processes: 2, transport: "http" });
      try {
        const lock = new Lock();
        const counter = new RawValue("i", 0);
        const done = new Queue<number>();
        await withTimeout(
          pool.starmap(async (id: number, lock: Lock, counter: RawValue<"i">, done: Queue<number>) => {
            for (let i = 0; i < 20; i++) {
              await lock.acquire();
              await counter.set((await counter.get()) + 1);
              await lock.release();
            }
            await done.put(id);
          }, [0, 1, 2].map((id) => [id, lock, counter, done] as const)),
          60_000,
          "starmap",
        );
        assert.equal(await counter.get(), 60);
        const finished: number[] = [];
        for (let i = 0; i < 3; i++) finished.push(await done.get({ timeout: 5_000 }));
        assert.deepEqual(finished.sort(), [0, 1, 2]);
      } finally {
        await pool.terminate();
      }
    });
  });
});
