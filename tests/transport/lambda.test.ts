// The lambda transport against the Lambda test server, with the real
// runtime (skypool's handler bundled by `skypool runtime deploy`): the
// transport contract, throttling, and the errors only Lambda has.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FunctionExecutor, Lock, Pool, Queue, RawValue } from "../../mod.ts";
import { config } from "../../src/config.ts";
import { SkypoolError, TimeoutError, WorkerLostError } from "../../src/errors.ts";
import { deployRuntime } from "../../src/remote/lambda_runtime.ts";
import { RemoteTransport } from "../../src/remote/remote_transport.ts";
import { stopBundler } from "../../src/task/bundle.ts";
import type { TaskFn } from "../../src/task/function_ref.ts";
import { type LambdaServer, startLambdaServer } from "../../src/testing/lambda_server.ts";
import { LambdaChannel, lambdaTransport } from "../../src/transport/lambda.ts";
import { failureOf as errorOf, runChunk as run, withCore } from "../helpers/core_fixtures.ts";
import { makeTempDir, removeDir } from "../helpers/pool_fixtures.ts";
import { FAKE_AWS, lambdaClient, lambdaSdk, parsePayload, TEST_ROLE } from "../helpers/lambda_fixtures.ts";
import { openAnswer, sealBatch } from "../../src/remote/envelope.ts";
import { encode } from "../../src/task/codec.ts";
import { Buffer } from "node:buffer";
import { startRedisServer } from "../helpers/redis_server.ts";
import { startS3Server } from "../helpers/s3_server.ts";
import { Storage } from "../../src/storage/storage.ts";
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

  test("an unknown function is a clear error", T, async () => {
    const unknown = await withCore(lambdaTransport({ processes: 1, channel: { functionName: "missing", client } }), (core) =>
      run(core, ((x: number) => x) as TaskFn, [1]));
    const u = errorOf(unknown);
    assert.ok(u instanceof SkypoolError);
    assert.match(u.message, /"missing" not found.*skypool runtime deploy missing/);
  });
});

const MB = 1024 * 1024;

/** Every object left under a storage URL. */
async function objectsIn(url: string): Promise<string[]> {
  const keys: string[] = [];
  const storage = new Storage(url);
  try {
    for await (const e of storage.list()) keys.push(e.key);
  } finally {
    await storage.close();
  }
  return keys;
}

describe("lambda transport: payloads over the 6 MB invoke limit", () => {
  let dir: string;
  let store: string;
  before(async () => {
    await startAll();
    dir = await makeTempDir("skypool-lambda-payloads-");
    store = pathToFileURL(join(dir, "store")).href;
  });
  after(async () => {
    await removeDir(dir);
    await stopAll();
  });

  test("a 10 MB argument and a 10 MB result go through storage by reference, one invoke each, and nothing is left there", T, async () => {
    const channel = new LambdaChannel({ functionName: "contract", client, storage: store });
    const [arg, result] = await withCore(new RemoteTransport(channel, { size: 2 }), (core) =>
      Promise.all([
        run(core, ((s: string) => `${s.length}:${s.slice(-3)}`) as TaskFn, ["a".repeat(10 * MB - 3) + "end"]),
        run(core, ((n: number) => "b".repeat(n)) as TaskFn, [10 * MB]),
      ]));
    assert.deepEqual(arg.ok && arg.values, [`${10 * MB}:end`]);
    assert.ok(result.ok, "the 10 MB result came back");
    const big = result.values[0] as string;
    assert.equal(big.length, 10 * MB);
    assert.ok(/^b+$/.test(big));
    assert.equal(channel.stats.invokes, 2, "one invoke per batch, not refused and retried");
    assert.deepEqual(await objectsIn(store), [], "the stored batch and answer were deleted once read");
  });

  test("through an S3 bucket (s3rver): a 10 MB argument and a 10 MB result, nothing left in the bucket", T, async () => {
    const s3 = await startS3Server(["skypool-payloads"]);
    try {
      // The function reaches the bucket as a Lambda would, through its environment.
      await deployRuntime({
        name: "s3-payloads",
        role: TEST_ROLE,
        timeout: 60,
        client,
        env: { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED" },
      });
      config.set({ storage: { s3: s3.options } });
      const channel = new LambdaChannel({ functionName: "s3-payloads", client, storage: "s3://skypool-payloads" });
      const [arg, result] = await withCore(new RemoteTransport(channel, { size: 2 }), (core) =>
        Promise.all([
          run(core, ((s: string) => s.length) as TaskFn, ["s".repeat(10 * MB)]),
          run(core, ((n: number) => "t".repeat(n)) as TaskFn, [10 * MB]),
        ]));
      assert.deepEqual(arg.ok && arg.values, [10 * MB]);
      assert.equal(result.ok && (result.values[0] as string).length, 10 * MB);
      assert.deepEqual(await objectsIn("s3://skypool-payloads"), []);
    } finally {
      config.set({ storage: { s3: {} } });
      await s3.stop();
    }
  });

  test("a stored batch runs only if its seal verifies: whoever can write to the storage cannot make the function run code", T, async () => {
    const sdk = await lambdaSdk();
    const lambda = await lambdaClient(server.endpoint);
    const storage = new Storage(store);
    // Each batch writes its marker file, so that what ran can be seen.
    const sealed = (marker: string) =>
      sealBatch({ fn: { kind: "source", id: "s:mark", source: `async (p) => (await import("node:fs")).writeFileSync(p, "ran")` }, payload: encode([marker]), each: true, count: 1 }, KEY);
    const invokeStored = async (key: string, bytes: Uint8Array) => {
      await storage.put(key, bytes);
      const r = await lambda.send(new sdk.InvokeCommand({ FunctionName: "contract", Payload: new TextEncoder().encode(JSON.stringify({ batchUrl: storage.objectUrl(key) })) }));
      return Buffer.from((parsePayload(r.Payload) as { result: string }).result, "base64");
    };
    try {
      const good = sealed(join(dir, "good-ran"));
      assert.equal(openAnswer(await invokeStored("good.batch", good.bytes), good.batchId, KEY).kind, "result");
      assert.equal(readFileSync(join(dir, "good-ran"), "utf8"), "ran", "an intact stored batch runs");
      const bad = sealed(join(dir, "bad-ran"));
      bad.bytes[bad.bytes.length - 3] ^= 1;
      const answer = openAnswer(await invokeStored("bad.batch", bad.bytes), bad.batchId, KEY);
      assert.equal(answer.kind, "refusal");
      assert.match((answer as { message: string }).message, /signature does not match/);
      assert.throws(() => readFileSync(join(dir, "bad-ran")), /ENOENT/, "the changed batch never ran");
    } finally {
      lambda.destroy();
      await storage.delete("good.batch", "bad.batch");
    }
  });

  test("with no storage configured, a batch over the limit is one clear error naming its size, the limit and the setting", T, async () => {
    const channel = new LambdaChannel({ functionName: "contract", client, storage: null });
    const o = await withCore(new RemoteTransport(channel, { size: 1 }), (core) => run(core, ((s: string) => s.length) as TaskFn, ["x".repeat(7 * MB)]));
    const err = errorOf(o);
    assert.ok(err instanceof SkypoolError, err.name);
    assert.match(err.message, /^a batch of \d+ bytes is over Lambda's 6291456-byte invoke limit once encoded, and no storage is configured .*SKYPOOL_STORAGE/);
    assert.ok(!err.message.includes("\n"));
    assert.equal(channel.stats.invokes, 0, "nothing was sent");
  });

  test("with no storage configured, a result over the limit is one clear error naming the setting", T, async () => {
    const channel = new LambdaChannel({ functionName: "contract", client, storage: null });
    const o = await withCore(new RemoteTransport(channel, { size: 1 }), (core) => run(core, ((n: number) => "r".repeat(n)) as TaskFn, [7 * MB]));
    const err = errorOf(o);
    assert.ok(err instanceof SkypoolError, err.name);
    assert.match(err.message, /results are over Lambda's 6291456-byte limit, and no storage is configured .*SKYPOOL_STORAGE/);
  });

  test("a map whose items together exceed 6 MB is cut into invokes that fit, in order (no storage needed)", T, async () => {
    const channel = new LambdaChannel({ functionName: "contract", client, storage: null });
    await using pool = new Pool({ processes: 2, transport: new RemoteTransport(channel, { size: 2 }) });
    const items = Array.from({ length: 12 }, (_, i) => String.fromCharCode(97 + i).repeat(900 * 1024));
    // One chunk of 12 items (10.8 MB encoded): cut by the 4 MB budget into 3 batches of 4.
    const out = await pool.map((s: string) => `${s[0]}${s.length}`, items, 12);
    assert.deepEqual(out, items.map((s) => `${s[0]}${s.length}`));
    assert.equal(channel.stats.invokes, 3);
    assert.equal(pool.stats().tasksDone, 12);
  });
});

describe("lambda transport: cold starts in stats, and handles on a TCP Redis", () => {
  before(startAll);
  after(stopAll);

  test("pool.stats().coldStarts counts the invokes that started an environment", T, async () => {
    await deployRuntime({ name: "fresh-pool", role: TEST_ROLE, timeout: 60, client });
    const before = server.stats().coldStarts;
    await using pool = new Pool({ processes: 2, transport: lambdaTransport({ processes: 2, channel: { functionName: "fresh-pool", client } }) });
    assert.equal(pool.stats().coldStarts, 0);
    assert.deepEqual(await pool.map((x: number) => x + 1, [1, 2, 3, 4, 5, 6], 1), [2, 3, 4, 5, 6, 7]);
    const cold = pool.stats().coldStarts;
    assert.ok(cold >= 1 && cold <= 2, `${cold} cold starts for 2 environments`);
    assert.equal(cold, server.stats().coldStarts - before, "as many as the server started");
  });

  test("futures: workerColdStart is true for the call that started its environment, false after", T, async () => {
    await deployRuntime({ name: "fresh-futures", role: TEST_ROLE, timeout: 60, client });
    await using fexec = new FunctionExecutor({ transport: lambdaTransport({ processes: 1, channel: { functionName: "fresh-futures", client } }), workers: 1 });
    const first = await fexec.callAsync((x: number) => x * 2, 21);
    assert.equal(await fexec.getResult(first), 42);
    const second = await fexec.callAsync((x: number) => x * 3, 5);
    assert.equal(await fexec.getResult(second), 15);
    assert.equal(first.stats.workerColdStart, true);
    assert.equal(second.stats.workerColdStart, false);
  });

  test("a Lock, a Value and a Queue on a TCP Redis work inside tasks on Lambda", T, async () => {
    const redis = await startRedisServer();
    try {
      config.set({ redis: { url: redis.url } });
      await using pool = new Pool({ processes: 4, transport: lambdaTransport({ processes: 4, channel: { functionName: "contract", client } }) });
      const lock = new Lock();
      const counter = new RawValue("i", 0);
      const done = new Queue<number>();
      await pool.starmap(async (id: number, lock: Lock, counter: RawValue<"i">, done: Queue<number>) => {
        for (let i = 0; i < 25; i++) {
          await lock.acquire();
          await counter.set((await counter.get()) + 1);
          await lock.release();
        }
        await done.put(id);
      }, [0, 1, 2, 3].map((id) => [id, lock, counter, done] as const), 1);
      assert.equal(await counter.get(), 100, "no increment lost: the lock held across environments");
      const finished: number[] = [];
      for (let i = 0; i < 4; i++) finished.push(await done.get({ timeout: 5_000 }));
      assert.deepEqual(finished.sort(), [0, 1, 2, 3]);
    } finally {
      config.reset();
      config.set({ authkey: KEY });
      await redis.stop();
    }
  });
});

describe("lambda transport: the AWS errors a user can provoke are one clear message", () => {
  before(startAll);
  after(stopAll);

  const oneLine = (o: Awaited<ReturnType<typeof run>>, re: RegExp, kind: abstract new (...args: never[]) => Error = SkypoolError) => {
    const err = errorOf(o);
    assert.ok(err instanceof kind, `${err.name}: ${err.message}`);
    assert.match(err.message, re);
    assert.ok(!err.message.includes("\n"), err.message);
  };

  test("no credentials", T, async () => {
    const noCredentials = () => Promise.reject(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    const o = await withCore(lambdaTransport({ processes: 1, channel: { functionName: "contract", client: { ...client, credentials: noCredentials } } }), (core) =>
      run(core, ((x: number) => x) as TaskFn, [1]));
    oneLine(o, /^no AWS credentials found: set AWS_ACCESS_KEY_ID/);
  });

  test("throttled beyond the retries", T, async () => {
    const narrow = await startLambdaServer({ concurrency: 1, retryAfterSeconds: 0.01, activationMs: 20 });
    try {
      await deployRuntime({ name: "one", role: TEST_ROLE, timeout: 60, client: { ...client, endpoint: narrow.endpoint } });
      const t = lambdaTransport({ processes: 2, channel: { functionName: "one", throttleRetries: 2, client: { ...client, endpoint: narrow.endpoint } } });
      const outcomes = await withCore(t, (core) =>
        Promise.all([0, 1].map(() => run(core, (async () => await new Promise((r) => setTimeout(r, 2000))) as TaskFn, [0]))));
      const failed = outcomes.filter((o) => !o.ok);
      assert.equal(failed.length, 1, "one ran, the other was throttled 3 times");
      oneLine(failed[0], /^Lambda function "one" was still throttled after 2 retries/, WorkerLostError);
    } finally {
      await narrow.close();
    }
  });
});
