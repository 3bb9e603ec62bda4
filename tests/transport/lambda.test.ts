// The lambda transport against the Lambda test server, with the real
// runtime (skypool's handler bundled by `skypool runtime deploy`): the
// transport contract, throttling, and the errors only Lambda has.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "../../src/config.ts";
import { SkypoolError, TimeoutError, WorkerLostError } from "../../src/errors.ts";
import type { ChunkOutcome } from "../../src/execution/chunk_feeder.ts";
import { ExecutionCore } from "../../src/execution/execution_core.ts";
import { deployRuntime } from "../../src/remote/lambda_runtime.ts";
import { RemoteTransport } from "../../src/remote/remote_transport.ts";
import { stopBundler } from "../../src/task/bundle.ts";
import type { TaskFn } from "../../src/task/function_ref.ts";
import { type LambdaServer, startLambdaServer } from "../../src/testing/lambda_server.ts";
import { LambdaChannel, lambdaTransport } from "../../src/transport/lambda.ts";
import { makeTempDir, removeDir, withTimeout } from "../helpers/pool_fixtures.ts";
import { FAKE_AWS, TEST_ROLE } from "../helpers/lambda_fixtures.ts";
import { describeTransportContract } from "./contract_cases.ts";

const KEY = "lambda-transport-test-key-0123";
const T = { timeout: 120_000 };

let server: LambdaServer;
let client: typeof FAKE_AWS & { endpoint: string };
let refs = 0;

async function startAll(): Promise<void> {
  if (refs++ > 0) return;
  config.set({ authkey: KEY });
  server = await startLambdaServer({ concurrency: 8, activationMs: 50 });
  client = { ...FAKE_AWS, endpoint: server.endpoint };
  await deployRuntime({ name: "contract", role: TEST_ROLE, timeout: 60, client });
  await deployRuntime({ name: "short", role: TEST_ROLE, timeout: 1, client });
}

async function stopAll(): Promise<void> {
  if (--refs > 0) return;
  await stopBundler();
  await server?.close();
  config.reset();
}

describeTransportContract({
  name: "lambda",
  make: (size) => lambdaTransport({ processes: size, channel: { functionName: "contract", client } }),
  losesWorkers: true,
  before: startAll,
  after: stopAll,
});

function run(core: ExecutionCore, fn: TaskFn, tasks: unknown[], each = true): Promise<ChunkOutcome> {
  return withTimeout(new Promise((resolve) => core.submitter(fn)(tasks, each, resolve)), 60_000, "batch");
}

async function withCore<T>(transport: RemoteTransport, body: (core: ExecutionCore) => Promise<T>): Promise<T> {
  const core = new ExecutionCore(transport);
  core.start({});
  try {
    return await body(core);
  } finally {
    await core.terminate();
  }
}

function errorOf(o: ChunkOutcome): Error {
  assert.equal(o.ok, false, "the batch must fail");
  return (o as { error: Error }).error;
}

describe("lambda transport: what only Lambda does", () => {
  let dir: string;
  before(async () => {
    await startAll();
    dir = await makeTempDir("skypool-lambda-transport-");
  });
  after(async () => {
    await removeDir(dir);
    await stopAll();
  });

  test("throttled at a concurrency of 4: 50 tasks all complete exactly once, the retries counted", T, async () => {
    const small = await startLambdaServer({ concurrency: 4, retryAfterSeconds: 0.05, activationMs: 20 });
    try {
      await deployRuntime({ name: "narrow", role: TEST_ROLE, timeout: 60, client: { ...client, endpoint: small.endpoint } });
      const channel = new LambdaChannel({ functionName: "narrow", concurrency: 50, client: { ...client, endpoint: small.endpoint } });
      const log = join(dir, "ran.log");
      const mark: TaskFn = async (path: string, i: number): Promise<number> => {
        const fs = await import("node:fs");
        fs.appendFileSync(path, `${i}\n`);
        await new Promise((r) => setTimeout(r, 20));
        return i * 2;
      };
      const outcomes = await withCore(new RemoteTransport(channel, { size: 50 }), (core) =>
        Promise.all(Array.from({ length: 50 }, (_, i) => run(core, mark, [[log, i]], false))));
      const values = outcomes.map((o) => (o.ok ? o.values[0] : errorOf(o).message));
      assert.deepEqual(values, Array.from({ length: 50 }, (_, i) => i * 2));
      const ran = readFileSync(log, "utf8").trim().split("\n").map(Number).sort((a, b) => a - b);
      assert.deepEqual(ran, Array.from({ length: 50 }, (_, i) => i), "each task ran exactly once");
      const s = small.stats();
      assert.ok(s.throttled > 0, "the server throttled some invokes");
      assert.equal(channel.stats.retries, s.throttled, "every throttled invoke was retried, and only those");
      assert.ok(s.peakConcurrency <= 4);
    } finally {
      await small.close();
    }
  });

  test("a task error comes back as the user's error with its remote stack", T, async () => {
    const o = await withCore(lambdaTransport({ processes: 1, channel: { functionName: "contract", client } }), (core) =>
      run(core, ((x: number) => {
        throw new RangeError(`no ${x}`);
      }) as TaskFn, [7]));
    const err = errorOf(o);
    assert.equal(err.name, "RangeError");
    assert.equal(err.message, "no 7");
  });

  test("past the function's timeout: TimeoutError; a runtime that exits: WorkerLostError", T, async () => {
    const timedOut = await withCore(lambdaTransport({ processes: 1, channel: { functionName: "short", client } }), (core) =>
      run(core, (async (ms: number) => await new Promise((r) => setTimeout(r, ms))) as TaskFn, [3000]));
    const t = errorOf(timedOut);
    assert.ok(t instanceof TimeoutError, `${t.name}: ${t.message}`);
    assert.match(t.message, /timed out.*Task timed out after 1\.00 seconds/);
    const crashed = await withCore(lambdaTransport({ processes: 1, channel: { functionName: "contract", client } }), (core) =>
      run(core, ((code: number) => process.exit(code)) as TaskFn, [5]));
    const c = errorOf(crashed);
    assert.ok(c instanceof WorkerLostError, `${c.name}: ${c.message}`);
    assert.match(c.message, /exit status 5/);
  });

  test("an unknown function and a batch over the payload limit are clear errors", T, async () => {
    const unknown = await withCore(lambdaTransport({ processes: 1, channel: { functionName: "missing", client } }), (core) =>
      run(core, ((x: number) => x) as TaskFn, [1]));
    const u = errorOf(unknown);
    assert.ok(u instanceof SkypoolError);
    assert.match(u.message, /"missing" not found.*skypool runtime deploy missing/);
    const big = await withCore(lambdaTransport({ processes: 1, channel: { functionName: "contract", client } }), (core) =>
      run(core, ((s: string) => s.length) as TaskFn, ["x".repeat(5 * 1024 * 1024)]));
    assert.match(errorOf(big).message, /over Lambda's 6291456-byte invoke limit/);
  });
});
