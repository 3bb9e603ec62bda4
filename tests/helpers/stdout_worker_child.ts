/**
 * A simulated remote worker for the STREAM_STDOUT tests: runs three
 * batches at once in one process — one for the caller's target, one for
 * another channel, one with a forged MAC — printing over time, and waits
 * for the caller's gate file between lines so that the caller proves it
 * got the first line while the batch was still running.
 *
 * Argument: JSON `{ target, other, forged, gate }`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import process from "node:process";
import type { StdoutTarget } from "../../src/execution/stdout_relay.ts";
import { withWorkerStdout } from "../../src/worker/stdout_stream.ts";

const { target, other, forged, gate } = JSON.parse(process.argv[2]) as {
  target: StdoutTarget;
  other: StdoutTarget;
  forged: StdoutTarget;
  gate: string;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const a = withWorkerStdout(target, async () => {
  console.log("A1");
  const deadline = Date.now() + 30_000;
  while (!existsSync(gate)) {
    if (Date.now() > deadline) throw new Error("the caller never opened the gate");
    await sleep(10);
  }
  console.log("A2 %s", "formatted");
  await sleep(5);
  process.stdout.write("A3 partial");
});
const b = withWorkerStdout(other, async () => {
  await sleep(10);
  console.log("B1");
  await sleep(10);
  process.stdout.write(new TextEncoder().encode("B2\n"));
});
const c = withWorkerStdout(forged, () => console.log("forged line"));
await Promise.all([a, b, c]);
// Outside every batch: written here only.
console.log("\nchild done");
