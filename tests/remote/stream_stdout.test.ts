// STREAM_STDOUT on a remote transport: what a task prints on an http
// worker (another process) reaches the caller's stdout while the task is
// still running, through the Redis both sides reach.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { config } from "../../src/config.ts";
import { closeStdoutRelay } from "../../src/execution/stdout_relay.ts";
import { Pool } from "../../src/pool.ts";
import { closeAllConnections } from "../../src/state/redis.ts";
import { startChildWorker } from "../helpers/http_worker.ts";
import { makeTempDir, removeDir, withTimeout, writeJson } from "../helpers/pool_fixtures.ts";
import { startRedisServer, type TestRedisServer } from "../helpers/redis_server.ts";

const KEY = "stream-stdout-test-key-0123456789";

let redis: TestRedisServer;
let worker: Awaited<ReturnType<typeof startChildWorker>>;
let dir: string;

before(async () => {
  redis = await startRedisServer();
  worker = await startChildWorker({ SKYPOOL_AUTHKEY: KEY });
  dir = await makeTempDir("skypool-stream-stdout-");
});

after(async () => {
  config.reset();
  await closeStdoutRelay();
  await worker?.stop();
  await closeAllConnections();
  await redis?.stop();
  if (dir) await removeDir(dir);
});

/** Prints `<tag>-first`, waits (up to 20 s) for the caller's gate file, prints `<tag>-second`. */
const printAroundGate = async (tag: string, gate: string): Promise<string> => {
  const fs = await import("node:fs");
  console.log(`${tag}-first`);
  const until = Date.now() + 20_000;
  while (!fs.existsSync(gate) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  console.log(`${tag}-second`);
  return fs.existsSync(gate) ? "gate opened" : "gate never opened";
};

test("a worker's console.log reaches the caller's stdout before the task ends", async () => {
  config.set({ authkey: KEY, http: { url: worker.url }, redis: { url: redis.url } });
  config.setParameter(config.STREAM_STDOUT, true);
  const tag = `line-${process.pid}-${Date.now()}`;
  const gate = join(dir, "gate");
  const seen: string[] = [];
  const write = process.stdout.write;
  // The relay prints with process.stdout.write: watch it, and open the gate
  // only once the first line has arrived, which proves it came while the
  // task was still running.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
    for (const line of text.split("\n")) if (line.startsWith(tag)) seen.push(line);
    if (seen.includes(`${tag}-first`)) writeJson(gate, true);
    return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  const pool = new Pool({ processes: 1, transport: "http" });
  try {
    const result = await withTimeout(pool.apply(printAroundGate, [tag, gate]), 60_000, "task");
    assert.equal(result, "gate opened", "the caller saw the first line while the task waited for it");
    const deadline = Date.now() + 10_000;
    while (!seen.includes(`${tag}-second`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, [`${tag}-first`, `${tag}-second`], "each line once, in order");
    assert.ok(existsSync(gate));
  } finally {
    process.stdout.write = write;
    await pool.terminate();
  }
});
