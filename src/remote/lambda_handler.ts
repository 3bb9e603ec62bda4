/**
 * The worker side of the `lambda` transport: a Lambda handler that runs one
 * sealed batch per invocation on the remote worker core. The batch travels
 * base64 in the event's JSON and the sealed answer comes back the same way.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { SkypoolError } from "../errors.ts";
import { handleBatch } from "./remote_worker.ts";

/** The event the `lambda` transport sends: one sealed batch, base64. */
export interface LambdaBatchEvent {
  /** The sealed batch (see `src/remote/envelope.ts`), base64. */
  batch: string;
}

/** The handler's answer: the worker's sealed answer, base64, and whether this invocation started its environment. */
export interface LambdaBatchAnswer {
  /** The sealed result or refusal, base64. */
  result: string;
  /** This was the environment's first invocation (a cold start). */
  cold: boolean;
}

/** The part of Lambda's `context` the handler reads. */
export interface LambdaContextLike {
  /** Time left before Lambda stops the invocation, in ms. */
  getRemainingTimeInMillis(): number;
  /** The function's name. */
  functionName?: string;
  /** The log stream: one per execution environment. */
  logStreamName?: string;
}

let invocations = 0;

/**
 * Runs the sealed batch of `event` and answers with the sealed result.
 * Refusals (another key, tampered or expired batches) are answers too; only
 * an event that is not a skypool batch throws (a function error).
 *
 * @example
 * ```ts
 * import { lambdaHandler } from "./src/remote/lambda_handler.ts";
 * const answer = await lambdaHandler({ batch: "" }, { getRemainingTimeInMillis: () => 1000 });
 * console.assert(typeof answer.result === "string" && answer.cold === true);
 * ```
 * @throws {SkypoolError} when the event is not `{ batch: <base64> }`.
 */
export async function lambdaHandler(event: unknown, context: LambdaContextLike): Promise<LambdaBatchAnswer> {
  const batch = (event as Partial<LambdaBatchEvent> | null)?.batch;
  if (typeof batch !== "string") {
    throw new SkypoolError("this function runs skypool batches: its event must be { batch: <base64> }, as the lambda transport sends");
  }
  const cold = invocations++ === 0;
  const answer = await handleBatch(Buffer.from(batch, "base64"), {
    workerId: `lambda:${context.functionName ?? "?"}/${context.logStreamName ?? "?"}`,
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  return { result: Buffer.from(answer).toString("base64"), cold };
}
