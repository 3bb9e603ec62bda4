// The transport contract: what every transport must do for the execution
// core. Each transport's test file calls describeTransportContract with how
// to make one (and, for remote transports, how to start and stop what it
// needs: a Redis, workers, a server).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WorkerLostError } from "../../src/errors.ts";
import type { ChunkOutcome } from "../../src/execution/chunk_feeder.ts";
import { ExecutionCore } from "../../src/execution/execution_core.ts";
import type { resolveTransport } from "../../src/execution/transport_registry.ts";
import type { TaskFn } from "../../src/task/function_ref.ts";
import { errorSummary, exitWith, identity, makeTempDir, removeDir, sleep, sqrOrFail, throwTypeErrorMarker, timedSleep, withTimeout } from "../helpers/pool_fixtures.ts";

/** A transport to run the contract against. */
export interface TransportUnderTest {
  name: string;
  /** A fresh transport of `size` batches at once (a transport may fix its own size). */
  make(size: number): ReturnType<typeof resolveTransport>;
  /** Whether its workers are processes that can die (inline runs in the caller). */
  losesWorkers: boolean;
  /** Starts what the transport needs, once before its cases. */
  before?(): Promise<void>;
  /** Stops it, once after its cases. */
  after?(): Promise<void>;
}

const T = { timeout: 120_000 };

function run(core: ExecutionCore, fn: TaskFn, tasks: unknown[], each = false): Promise<ChunkOutcome> {
  return new Promise((resolve) => core.submitter(fn)(tasks, each, resolve));
}

function values(o: ChunkOutcome): unknown[] {
  if (!o.ok) throw new assert.AssertionError({ message: `batch failed: ${errorSummary(o.error)}` });
  return o.values;
}

/** The most intervals that are open at one instant. */
function maxOverlap(intervals: { start: number; end: number }[]): number {
  const edges = intervals.flatMap((i) => [[i.start, 1], [i.end, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0, most = 0;
  for (const [, d] of edges) most = Math.max(most, open += d);
  return most;
}

/** Appends `tag` to the file at `path`, then sleeps `ms`. */
const appendThenSleep = async (path: string, tag: string, ms: number): Promise<string> => {
  const fs = await import("node:fs");
  fs.appendFileSync(path, tag + "\n");
  await new Promise((r) => setTimeout(r, ms));
  return tag;
};

/** Declares the contract's cases for `t`. */
export function describeTransportContract(t: TransportUnderTest): void {
  describe(`transport contract: ${t.name}`, () => {
    if (t.before) before(() => t.before!());
    if (t.after) after(() => t.after!());

    test("each batch comes back as one outcome holding its tasks' results in order", T, async () => {
      const core = new ExecutionCore(t.make(2));
      core.start({});
      try {
        const batches = [0, 1, 2, 3, 4].map((b) => Array.from({ length: 50 }, (_, i) => b * 50 + i));
        const outcomes = await withTimeout(Promise.all(batches.map((items) => run(core, sqrOrFail, items.map((x) => [x, -1])))), 60_000, "5 batches");
        outcomes.forEach((o, b) => assert.deepEqual(values(o), batches[b].map((x) => x * x), `batch ${b}`));
      } finally {
        await core.terminate();
      }
    });

    test("a task error comes back as that batch's outcome, as its own class, and other batches succeed", T, async () => {
      const core = new ExecutionCore(t.make(2));
      core.start({});
      try {
        const [bad, good] = await withTimeout(Promise.all([run(core, throwTypeErrorMarker, [["nope"]]), run(core, identity, [1, 2], true)]), 60_000, "error batch");
        assert.equal(bad.ok, false);
        assert.ok(!bad.ok && bad.error instanceof TypeError, errorSummary(!bad.ok && bad.error));
        assert.equal(!bad.ok && (bad.error as Error).message, "nope");
        assert.deepEqual(values(good), [1, 2]);
      } finally {
        await core.terminate();
      }
    });

    test("a large payload crosses both ways intact", T, async () => {
      const core = new ExecutionCore(t.make(1));
      core.start({});
      try {
        const big = "x".repeat(4 << 20) + "end";
        const o = await withTimeout(run(core, identity, [big], true), 90_000, "4 MiB batch");
        const [back] = values(o) as string[];
        assert.equal(back.length, big.length);
        assert.equal(back.slice(-3), "end");
      } finally {
        await core.terminate();
      }
    });

    test("no more batches run at once than the transport's size, nor than the core's concurrency", T, async () => {
      for (const concurrency of [undefined, 1]) {
        const transport = t.make(2);
        const core = new ExecutionCore(transport, { concurrency });
        core.start({});
        try {
          const outcomes = await withTimeout(Promise.all(Array.from({ length: 6 }, () => run(core, timedSleep, [[150]]))), 90_000, "6 sleeps");
          const intervals = outcomes.map((o) => (values(o) as { start: number; end: number }[])[0]);
          const bound = Math.min(transport.size, concurrency ?? Infinity);
          assert.ok(maxOverlap(intervals) <= bound, `at most ${bound} at once, saw ${maxOverlap(intervals)}: ${JSON.stringify(intervals)}`);
        } finally {
          await core.terminate();
        }
      }
    });

    test("each batch is reported started once, before its outcome; a transport that reports starts does so when a worker is free", T, async () => {
      const transport = t.make(1);
      const core = new ExecutionCore(transport);
      core.start({});
      try {
        const submit = core.submitter(timedSleep);
        const started: number[][] = [[], [], []];
        const ended: number[] = [];
        await withTimeout(Promise.all([0, 1, 2].map((b) =>
          new Promise<void>((resolve) =>
            submit([[200]], false, (o) => {
              values(o);
              ended[b] = performance.now();
              resolve();
            }, { started: () => started[b].push(performance.now()) })
          )
        )), 60_000, "3 sleeps");
        for (let b = 0; b < 3; b++) {
          assert.equal(started[b].length, 1, `batch ${b} reported started ${started[b].length} times`);
          assert.ok(started[b][0] <= ended[b], `batch ${b} started after its outcome`);
        }
        assert.equal(core.unstarted, 0);
        if (transport.kind === "remote" && transport.reportsStart) {
          // One at a time: each starts once the one before it has finished (its result may arrive just after).
          for (let b = 1; b < 3; b++) {
            assert.ok(started[b][0] >= started[b - 1][0] + 150, `batch ${b} reported started while batch ${b - 1} still ran`);
          }
        }
      } finally {
        await core.terminate();
      }
    });

    test("a queued batch can be cancelled: it never runs and never reports", T, async () => {
      const dir = await makeTempDir("skypool-contract-");
      const core = new ExecutionCore(t.make(1), { concurrency: 1 });
      core.start({});
      try {
        const log = join(dir, "log");
        const submit = core.submitter(appendThenSleep);
        const reported: string[] = [];
        const first = new Promise<ChunkOutcome>((resolve) => submit([[log, "first", 100]], false, resolve));
        const second = new Promise<ChunkOutcome>((resolve) => submit([[log, "second", 0]], false, resolve));
        const dropped = submit([[log, "dropped", 0]], false, () => reported.push("dropped"));
        assert.equal(core.queued, 2, "two batches wait behind the first");
        assert.equal(dropped.cancel(), true);
        assert.equal(dropped.cancel(), false, "cancelling twice drops nothing more");
        assert.deepEqual(values(await withTimeout(first, 60_000, "first")), ["first"]);
        assert.deepEqual(values(await withTimeout(second, 60_000, "second")), ["second"]);
        await sleep(100);
        assert.deepEqual(readFileSync(log, "utf8").split("\n").filter(Boolean), ["first", "second"]);
        assert.deepEqual(reported, []);
      } finally {
        await core.terminate();
        await removeDir(dir);
      }
    });

    test("a batch dispatched to the transport can no longer be cancelled", T, async () => {
      const core = new ExecutionCore(t.make(1), { concurrency: 1 });
      core.start({});
      try {
        let outcome: ChunkOutcome | undefined;
        const done = new Promise<void>((resolve) => {
          const ticket = core.submitter(identity)([7], true, (o) => {
            outcome = o;
            resolve();
          });
          assert.equal(ticket.cancel(), false);
        });
        await withTimeout(done, 60_000, "dispatched batch");
        assert.deepEqual(values(outcome!), [7]);
      } finally {
        await core.terminate();
      }
    });

    test("a worker that dies mid-batch is reported as that batch's WorkerLostError, not a hang", { ...T, skip: !t.losesWorkers && `${t.name} runs in the caller: it has no worker to lose` }, async () => {
      const core = new ExecutionCore(t.make(1));
      core.start({});
      try {
        const lost = await withTimeout(run(core, exitWith, [[3]]), 60_000, "lost batch");
        assert.ok(!lost.ok && lost.error instanceof WorkerLostError, errorSummary(!lost.ok && lost.error));
        const after = await withTimeout(run(core, identity, [5], true), 60_000, "batch after the loss");
        assert.deepEqual(values(after), [5], "the transport keeps working after the loss");
      } finally {
        await core.terminate();
      }
    });

    test("close and terminate may be called again and in any order", T, async () => {
      const core = new ExecutionCore(t.make(1));
      core.start({});
      assert.deepEqual(values(await withTimeout(run(core, identity, [1], true), 60_000, "one batch")), [1]);
      await withTimeout(Promise.all([core.close(), core.close()]), 60_000, "close twice");
      await withTimeout(core.terminate(), 60_000, "terminate after close");
      await withTimeout(core.terminate(), 60_000, "terminate again");
    });
  });
}
