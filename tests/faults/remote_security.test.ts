// Issue 9 item 2 over http: a batch that is tampered with, signed with
// another key, expired, replayed after its expiry, or replaced by garbage
// is refused by the worker, runs nothing (the file the task would write
// never appears), and the caller's task rejects with a SkypoolError that
// says why. A forged answer is never taken as a success.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { config } from "../../src/config.ts";
import { SkypoolError } from "../../src/errors.ts";
import { Pool } from "../../src/pool.ts";
import { sealResult } from "../../src/remote/envelope.ts";
import { handleFetch } from "../../src/remote/fetch_handler.ts";
import { type HttpWorker, startChildWorker, startInProcessWorker } from "../helpers/http_worker.ts";
import { makeTempDir, removeDir, sleep, withTimeout } from "../helpers/pool_fixtures.ts";

const KEY = "remote-security-test-key-0123";

/** The side effect a refused batch must not have. */
const touch = async (path: string): Promise<string> => {
  const fs = await import("node:fs");
  fs.writeFileSync(path, "ran");
  return "ran";
};

/** What the man in the middle does to the next request. */
let intercept: (body: Uint8Array) => Promise<Uint8Array | Response> = (body) => Promise.resolve(body);

/** Runs `touch(path)` on a fresh http pool; the error it rejects with. */
async function refusal(path: string): Promise<Error> {
  const pool = new Pool({ processes: 1, transport: "http" });
  try {
    await withTimeout(pool.apply(touch, [path]), 30_000, "apply");
  } catch (err) {
    return err as Error;
  } finally {
    await pool.terminate();
  }
  throw new assert.AssertionError({ message: "the task succeeded; it should have been refused" });
}

function assertRefused(err: Error, reason: RegExp, path: string): void {
  assert.ok(err instanceof SkypoolError, `${err?.name}: ${err?.message}`);
  assert.match(err.message, /the http worker ran nothing of the batch/);
  assert.match(err.message, reason);
  assert.equal(existsSync(path), false, "nothing ran");
}

describe("remote security over http", () => {
  let dir: string;
  let proxy: HttpWorker;
  before(async () => {
    dir = await makeTempDir("skypool-remote-security-");
    proxy = await startInProcessWorker(async (req) => {
      const altered = await intercept(new Uint8Array(await req.arrayBuffer()));
      if (altered instanceof Response) return altered;
      return handleFetch(new Request(req.url, { method: "POST", body: altered as Uint8Array<ArrayBuffer> }));
    });
    config.set({ authkey: KEY, http: { url: proxy.url } });
  });
  after(async () => {
    await proxy.stop();
    config.reset();
    await removeDir(dir);
  });

  test("a tampered batch", async () => {
    const path = join(dir, "tampered");
    intercept = (body) => {
      const t = body.slice();
      t[Math.floor(t.length / 2)] ^= 0x20;
      return Promise.resolve(t);
    };
    assertRefused(await refusal(path), /signature does not match/, path);
  });

  test("a batch signed with another key", async () => {
    const path = join(dir, "wrong-key");
    const other = await startChildWorker({ SKYPOOL_AUTHKEY: "the-workers-other-key-98765" });
    try {
      config.set({ http: { url: other.url } });
      assertRefused(await refusal(path), /signature does not match.*SKYPOOL_AUTHKEY/, path);
    } finally {
      config.set({ http: { url: proxy.url } });
      await other.stop();
    }
  });

  test("an expired batch (delivered after its expiry)", async () => {
    const path = join(dir, "expired");
    config.set({ redisExpiryTime: 1 });
    intercept = async (body) => {
      await sleep(1300);
      return body;
    };
    try {
      assertRefused(await refusal(path), /expired/, path);
    } finally {
      config.set({ redisExpiryTime: 3600 });
    }
  });

  test("a batch replayed after its expiry", async () => {
    const path = join(dir, "replayed");
    config.set({ redisExpiryTime: 1 });
    let recorded: Uint8Array | undefined;
    intercept = (body) => Promise.resolve(recorded = body);
    try {
      const pool = new Pool({ processes: 1, transport: "http" });
      try {
        assert.equal(await withTimeout(pool.apply(touch, [path]), 30_000, "first run"), "ran");
      } finally {
        await pool.terminate();
      }
      assert.equal(existsSync(path), true, "the genuine delivery ran");
      rmSync(path);
      await sleep(1300);
      // The attacker sends the recorded batch again, directly and in place of a new one.
      const direct = await fetch(proxy.url, { method: "POST", body: recorded as Uint8Array<ArrayBuffer> });
      assert.equal(direct.status, 403);
      assert.match(new TextDecoder().decode(await direct.arrayBuffer()), /expired/);
      intercept = () => Promise.resolve(recorded!);
      assertRefused(await refusal(join(dir, "other")), /expired/, path);
    } finally {
      config.set({ redisExpiryTime: 3600 });
    }
  });

  test("garbage bytes in place of a batch", async () => {
    const path = join(dir, "garbage");
    intercept = () => Promise.resolve(crypto.getRandomValues(new Uint8Array(2048)));
    assertRefused(await refusal(path), /not a skypool envelope/, path);
  });

  test("a forged success answer is not believed", async () => {
    const path = join(dir, "forged");
    intercept = () =>
      Promise.resolve(new Response(sealResult({ batchId: "x", status: "ok", payload: new Uint8Array(0), workerId: "evil", workerStart: 0, workerEnd: 0 }, "an-attackers-own-key-012345") as Uint8Array<ArrayBuffer>));
    const err = await refusal(path);
    assert.ok(err instanceof SkypoolError && /signature does not match/.test(err.message), String(err));
    assert.equal(existsSync(path), false);
  });
});
