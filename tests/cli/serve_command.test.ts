// `skypool serve`: its options, its refusal to start without an authkey,
// and the server it runs (serveHttp) answering health checks and batches.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { serveCommand } from "../../src/cli/serve_command.ts";
import { config } from "../../src/config.ts";
import { SkypoolError } from "../../src/errors.ts";
import { openAnswer, sealBatch } from "../../src/remote/envelope.ts";
import { serveHttp } from "../../src/remote/serve.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { shipFunction } from "../../src/task/function_ref.ts";

describe("skypool serve", () => {
  test("has --port and --host with defaults", () => {
    const cmd = serveCommand();
    assert.equal(cmd.name(), "serve");
    const flags = cmd.options.map((o) => o.long);
    assert.deepEqual(flags, ["--port", "--host"]);
    assert.equal(cmd.options[0].defaultValue, 8080);
  });

  test("refuses a port that is not a number", async () => {
    const cmd = serveCommand().exitOverride().configureOutput({ writeErr: () => {} });
    await assert.rejects(cmd.parseAsync(["--port", "http"], { from: "user" }), /expected a port number/);
  });

  test("refuses to start without an authkey, saying how to set SKYPOOL_AUTHKEY", async () => {
    const saved = process.env.SKYPOOL_AUTHKEY;
    delete process.env.SKYPOOL_AUTHKEY;
    config.reset();
    try {
      await assert.rejects(serveCommand().parseAsync(["--port", "0"], { from: "user" }), (err: Error) => err instanceof SkypoolError && /skypool serve/.test(err.message) && /SKYPOOL_AUTHKEY/.test(err.message));
    } finally {
      if (saved !== undefined) process.env.SKYPOOL_AUTHKEY = saved;
      config.reset();
    }
  });

  test("serveHttp answers a health check and runs a posted batch, until its signal aborts", async () => {
    const key = "serve-test-key-0123456789";
    config.set({ authkey: key });
    const stop = new AbortController();
    const { port, closed } = await serveHttp({ port: 0, hostname: "127.0.0.1", signal: stop.signal });
    try {
      const health = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(health.status, 200);
      assert.match(await health.text(), /skypool worker/);
      const { bytes, batchId } = sealBatch({ fn: shipFunction((s: string) => s.toUpperCase()), payload: encode(["ok"]), each: true, count: 1 }, key);
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: bytes as Uint8Array<ArrayBuffer> });
      assert.equal(res.status, 200);
      const answer = openAnswer(new Uint8Array(await res.arrayBuffer()), batchId, key);
      assert.ok(answer.kind === "result");
      assert.deepEqual(decode(answer.result.payload), ["OK"]);
      const put = await fetch(`http://127.0.0.1:${port}/`, { method: "PUT", body: "x" });
      assert.equal(put.status, 405);
      await put.body?.cancel();
    } finally {
      stop.abort();
      await closed;
      config.reset();
    }
  });
});
