// The http channel's own behaviour: busy answers (429/503) are retried
// after their Retry-After, nothing else is; each call has a timeout; a
// missing URL or authkey is a clear error at start.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { config } from "../../src/config.ts";
import { SkypoolError, TimeoutError, WorkerLostError } from "../../src/errors.ts";
import type { ChunkOutcome } from "../../src/execution/chunk_feeder.ts";
import { ExecutionCore } from "../../src/execution/execution_core.ts";
import { handleFetch } from "../../src/remote/fetch_handler.ts";
import { httpTransport } from "../../src/transport/http.ts";
import type { TaskFn } from "../../src/task/function_ref.ts";
import { type HttpWorker, startInProcessWorker } from "../helpers/http_worker.ts";
import { sleepMs, withTimeout } from "../helpers/pool_fixtures.ts";

const KEY = "http-transport-test-key-0123";

async function runOn(url: string, fn: TaskFn, tasks: unknown[], options: { timeoutMs?: number; retries?: number } = {}): Promise<ChunkOutcome> {
  const core = new ExecutionCore(httpTransport(1, { url, ...options }));
  core.start({});
  try {
    return await withTimeout(new Promise<ChunkOutcome>((resolve) => core.submitter(fn)(tasks, true, resolve)), 60_000, "http batch");
  } finally {
    await core.terminate();
  }
}

describe("http transport", () => {
  const servers: HttpWorker[] = [];
  async function serve(handler?: Parameters<typeof startInProcessWorker>[0]): Promise<HttpWorker> {
    const s = await startInProcessWorker(handler);
    servers.push(s);
    return s;
  }
  before(() => config.set({ authkey: KEY }));
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    config.reset();
  });

  test("a server that answers 429 twice, then serves: the batch succeeds after the Retry-After waits", async () => {
    const server = await serve((req, n) =>
      n <= 2 ? Promise.resolve(new Response("slow down", { status: 429, headers: { "retry-after": "1" } })) : handleFetch(req)
    );
    const t0 = performance.now();
    const o = await runOn(server.url, (x: number) => x + 1, [41]);
    const elapsed = performance.now() - t0;
    assert.deepEqual(o.ok && o.values, [42]);
    assert.equal(server.requests, 3);
    assert.ok(elapsed >= 1950, `two Retry-After: 1 waits take 2 s, took ${Math.round(elapsed)} ms`);
  });

  test("503 is retried too, with a backoff when there is no Retry-After, up to http.retries", async () => {
    const server = await serve(() => Promise.resolve(new Response("down", { status: 503 })));
    const o = await runOn(server.url, (x: number) => x, [1], { retries: 2 });
    assert.ok(!o.ok && o.error instanceof SkypoolError && /busy \(HTTP 503\) 3 times/.test((o.error as Error).message), String(!o.ok && o.error));
    assert.equal(server.requests, 3);
  });

  test("a function error is not retried", async () => {
    const server = await serve();
    const o = await runOn(server.url, (m: string) => { throw new RangeError(m); }, ["once"]);
    assert.ok(!o.ok && o.error instanceof RangeError && (o.error as Error).message === "once");
    assert.equal(server.requests, 1);
  });

  test("a call with no answer within http.timeoutMs is a TimeoutError", async () => {
    const server = await serve();
    const t0 = performance.now();
    const o = await runOn(server.url, sleepMs, [3000], { timeoutMs: 300 });
    const elapsed = performance.now() - t0;
    assert.ok(!o.ok && o.error instanceof TimeoutError && /within 300 ms/.test((o.error as Error).message), String(!o.ok && o.error));
    assert.ok(elapsed >= 290, `waited ${Math.round(elapsed)} ms`);
  });

  test("an error page from something in between is a clear error", async () => {
    const server = await serve(() => Promise.resolve(new Response("<h1>Bad Gateway</h1>", { status: 502, statusText: "Bad Gateway" })));
    const o = await runOn(server.url, (x: number) => x, [1]);
    assert.ok(!o.ok && o.error instanceof WorkerLostError && /HTTP 502 Bad Gateway: <h1>Bad Gateway<\/h1>/.test((o.error as Error).message), String(!o.ok && o.error));
  });

  test("nothing listening is a WorkerLostError naming the URL", async () => {
    const server = await serve();
    await server.stop();
    const o = await runOn(server.url, (x: number) => x, [1]);
    assert.ok(!o.ok && o.error instanceof WorkerLostError && o.error.message.includes(server.url), String(!o.ok && o.error));
  });

  test("without http.url the batch fails saying to set SKYPOOL_HTTP_URL", async () => {
    const o = await runOn(undefined as unknown as string, (x: number) => x, [1]);
    assert.ok(!o.ok && o.error instanceof SkypoolError && /SKYPOOL_HTTP_URL/.test((o.error as Error).message));
  });

  test("without an explicit authkey the transport refuses to start, saying how to set SKYPOOL_AUTHKEY", () => {
    const saved = process.env.SKYPOOL_AUTHKEY;
    delete process.env.SKYPOOL_AUTHKEY;
    config.reset();
    try {
      assert.throws(() => httpTransport(1, { url: "http://127.0.0.1:1/" }), (err: Error) => err instanceof SkypoolError && /http transport/.test(err.message) && /SKYPOOL_AUTHKEY/.test(err.message));
    } finally {
      if (saved !== undefined) process.env.SKYPOOL_AUTHKEY = saved;
      config.set({ authkey: KEY });
    }
  });
});
