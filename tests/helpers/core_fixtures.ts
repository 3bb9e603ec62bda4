/**
 * Test helpers for driving a transport through an `ExecutionCore` one
 * chunk at a time: the remote transport tests (in-memory channel, Lambda
 * test server) share them.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ChunkOutcome } from "../../src/execution/chunk_feeder.ts";
import { ExecutionCore } from "../../src/execution/execution_core.ts";
import type { TaskFn } from "../../src/task/function_ref.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { withTimeout } from "./pool_fixtures.ts";

/** Runs `tasks` (single arguments with `each`, else argument lists) as one chunk of `fn`; its outcome, or a rejection after 60 s. */
export function runChunk(core: ExecutionCore, fn: TaskFn, tasks: unknown[], each = true): Promise<ChunkOutcome> {
  return withTimeout(new Promise((resolve) => core.submitter(fn)(tasks, each, resolve)), 60_000, "batch");
}

/** Runs `body` with a started core on `transport`, terminated at the end. */
export async function withCore<T>(transport: Transport, body: (core: ExecutionCore) => Promise<T>): Promise<T> {
  const core = new ExecutionCore(transport);
  core.start({});
  try {
    return await body(core);
  } finally {
    await core.terminate();
  }
}

/** The error of a chunk that must have failed. */
export function failureOf(o: ChunkOutcome): Error {
  assert.equal(o.ok, false, "the batch must fail");
  return (o as { error: Error }).error;
}
