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
const worker = await import(pathToFileURL(process.argv[2].replace(/mod\.js$/, "worker.js")).href);
out.workerEntry = Object.keys(worker).sort().join(",");
process.stdout.write(JSON.stringify(out) + "\n");
