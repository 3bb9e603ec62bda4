// The transport contract on `http`, against a worker endpoint this test
// serves in-process; and, with the endpoint in a child process, a worker
// that exits mid-batch is a WorkerLostError, not a hang.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { config } from "../../src/config.ts";
import { WorkerLostError } from "../../src/errors.ts";
import type { ChunkOutcome } from "../../src/execution/chunk_feeder.ts";
import { ExecutionCore } from "../../src/execution/execution_core.ts";
import { resolveTransport } from "../../src/execution/transport_registry.ts";
import { exitWith, withTimeout } from "../helpers/pool_fixtures.ts";
import { type HttpWorker, startChildWorker, startInProcessWorker } from "../helpers/http_worker.ts";
import { describeTransportContract } from "./contract_cases.ts";

const KEY = "contract-http-test-key-0123";
let worker: HttpWorker | undefined;

describeTransportContract({
  name: "http",
  make: (size) => resolveTransport("http", { processes: size }),
  // Its worker runs in this process: a task that exits would end the test run.
  losesWorkers: false,
  async before() {
    worker = await startInProcessWorker();
    config.set({ authkey: KEY, http: { url: worker.url } });
  },
  async after() {
    await worker?.stop();
    config.reset();
  },
});

describe("http worker in a child process", () => {
  let child: Awaited<ReturnType<typeof startChildWorker>> | undefined;
  before(async () => {
    config.set({ authkey: KEY });
    child = await startChildWorker({ SKYPOOL_AUTHKEY: KEY });
    config.set({ http: { url: child.url } });
  });
  after(async () => {
    await child?.stop();
    config.reset();
  });

  test("a worker that exits mid-batch is that batch's WorkerLostError, not a hang", { timeout: 60_000 }, async () => {
    const core = new ExecutionCore(resolveTransport("http", { processes: 1 }));
    core.start({});
    try {
      const outcome = await withTimeout(new Promise<ChunkOutcome>((resolve) => core.submitter(exitWith)([[3]], false, resolve)), 30_000, "lost batch");
      assert.ok(!outcome.ok && outcome.error instanceof WorkerLostError, String(!outcome.ok && outcome.error));
      assert.match((outcome as { error: Error }).error.message, /lost the http worker at http:\/\/127\.0\.0\.1:\d+\/ during the call/);
      assert.equal(await withTimeout(child!.exited, 10_000, "worker exit"), 3);
    } finally {
      await core.terminate();
    }
  });
});
