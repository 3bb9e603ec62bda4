// Child side of tests/package_bundle.test.ts, plain JavaScript for Node:
// uses the npm package as published (npm/package, bundled) through its
// entry at argv[2] and prints one JSON line of what it saw. Every part
// crosses a place where the bundle could split one module in two: errors
// thrown by the parent's own code, a worker's results and errors, the
// executor's call runner (loaded by URL), state handles sent to workers
// (their kinds loaded by URL there) and the worker adapter entry.
import { pathToFileURL } from "node:url";

const sky = await import(pathToFileURL(process.argv[2]).href);
const out = {};
const pool = new sky.Pool(2);
try {
  out.map = (await pool.map((x) => x * 3, [1, 2, 3])).join(",");
  const k = 3;
  try {
    await pool.map((x) => x * k, [1]);
  } catch (err) {
    out.closureRefused = err instanceof sky.SerializationError;
  }
  try {
    await pool.apply(() => {
      throw new RangeError("from the worker");
    });
  } catch (err) {
    out.workerError = `${err.constructor.name}: ${err.message}`;
  }
  const counter = new sky.Value("i", 0);
  await pool.map(async (v) => {
    const lock = v.getLock();
    await lock.acquire();
    try {
      await v.set((await v.get()) + 1);
    } finally {
      await lock.release();
    }
  }, [counter, counter, counter, counter]);
  out.counter = await counter.get();
  try {
    await pool.apply(async (lock) => await lock.release(), [new sky.Lock()]);
  } catch (err) {
    out.stateErrorFromWorker = err instanceof sky.StateError;
  }
} finally {
  await pool.terminate();
}
const fexec = new sky.FunctionExecutor({ transport: "inline" });
try {
  const futures = await fexec.map((x) => x + 1, [1, 2]);
  out.executor = (await fexec.getResult(futures)).join(",");
} finally {
  await fexec[Symbol.asyncDispose]();
}
// The Lambda runtime is bundled again from the package's own files (deployRuntime), then runs batches in the test server.
const testing = await import(pathToFileURL(process.argv[2].replace(/mod\.js$/, "testing.js")).href);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
sky.config.set({ authkey: "package-probe-key-0123456789" });
const server = await testing.startLambdaServer({ concurrency: 2, activationMs: 10 });
try {
  const client = { region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret-test-key" }, endpoint: server.endpoint };
  await sky.deployRuntime({ name: "probe", role: "arn:aws:iam::123456789012:role/skypool-test", timeout: 60, client });
  const onLambda = new sky.Pool({ transport: sky.lambdaTransport({ processes: 2, channel: { functionName: "probe", client } }) });
  try {
    out.lambda = (await onLambda.map((x) => x * 2, [1, 2, 3])).join(",");
  } finally {
    await onLambda.terminate();
  }
} finally {
  await server.close();
}
const worker = await import(pathToFileURL(process.argv[2].replace(/mod\.js$/, "worker.js")).href);
out.workerEntry = Object.keys(worker).sort().join(",");
process.stdout.write(JSON.stringify(out) + "\n");
