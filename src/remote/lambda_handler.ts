/**
 * The worker side of the `lambda` transport: a Lambda handler that runs one
 * sealed batch per invocation on the remote worker core. The batch travels
 * base64 in the event's JSON, or, over the invoke limit, in storage under
 * the URL the event names; the sealed answer comes back the same ways (to
 * the URL sealed into the batch). See `lambda_payload.ts`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { config } from "../config.ts";
import { SkypoolError } from "../errors.ts";
import { preloadDecoder } from "../task/cbor_decoder.ts";
import { encode } from "../task/codec.ts";
import { setColdBatch } from "../worker/cold_start.ts";
import { handleBatch } from "./remote_worker.ts";
import { inlineBase64, readPayload, writePayload } from "./lambda_payload.ts";
import { sealBatch } from "./envelope.ts";

/**
 * The event the `lambda` transport sends: one sealed batch, base64
 * (`batch`), or the `file:`/`s3://` URL of the object holding it
 * (`batchUrl`) when it is over the invoke limit.
 */
export type LambdaBatchEvent = { batch: string } | { batchUrl: string };

/**
 * The handler's answer: the worker's sealed answer, base64 (`result`), or
 * `stored: true` when it was over the invoke limit and went to the batch's
 * `answerUrl`; and whether this invocation started its environment.
 */
export interface LambdaBatchAnswer {
  /** The sealed result or refusal, base64. */
  result?: string;
  /** The answer is in storage, at the URL the batch named. */
  stored?: true;
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

// Loading this module is the execution environment's init phase, which
// Lambda runs before the first invoke (and outside its timeout): load the
// codec's decoder now rather than inside the first batch.
void preloadDecoder();

/** The function of the init-phase batch ({@link prime}): asynchronous, as most tasks are. */
export const LAMBDA_INIT_FN = { kind: "source", id: "s:skypool-lambda-init", source: "async (x) => { await null; return x; }" } as const;

/**
 * Runs one small batch, sealed here with this environment's own key,
 * through the whole path an invocation takes (base64, MAC check, CBOR
 * decode, compiling and running a source function, encoding and sealing
 * the answer), so that the first real invocation finds that code compiled
 * rather than paying V8's lazy compilation of it (measured: ~6 ms of CPU
 * on the first invoke against ~1.7 ms on later ones). On Lambda this is
 * init work: it runs once per execution environment, before the first
 * invoke, in the Init phase (which has its own 10 s limit and, on
 * SnapStart, is snapshotted: AWS's "priming"); the handler also awaits it,
 * so an invocation never races it. Never rejects: a worker without a key
 * (which refuses every batch) skips it.
 */
async function prime(): Promise<void> {
  try {
    const key = config.get().authkey;
    if (key === undefined) return;
    const { bytes } = sealBatch({ fn: LAMBDA_INIT_FN, payload: encode([0, "init", [1.5]]), each: true, count: 3 }, key);
    inlineBase64(await handleBatch(Buffer.from(inlineBase64(bytes) ?? "", "base64"), { workerId: "lambda:init", remainingMs: () => 10_000 }));
  } catch {
    // Priming only saves time: a failure here shows up, with its message, on the first real batch.
  }
}

/** Settles when the init-phase priming ({@link prime}) is done; `skypool/lambda` awaits it at import. */
export const lambdaInit: Promise<void> = prime();

/** The sealed batch an event carries or names. */
async function batchOf(event: unknown): Promise<Uint8Array> {
  const e = event as { batch?: unknown; batchUrl?: unknown } | null;
  if (typeof e?.batch === "string") return Buffer.from(e.batch, "base64");
  if (typeof e?.batchUrl === "string") return await readPayload(e.batchUrl);
  throw new SkypoolError("this function runs skypool batches: its event must be { batch: <base64> } or { batchUrl: <file: or s3:// URL> }, as the lambda transport sends");
}

/**
 * Runs the sealed batch of `event` and answers with the sealed result.
 * Refusals (another key, tampered or expired batches) are answers too; only
 * an event that is not a skypool batch, or a stored batch or answer that
 * cannot be read or written, throws (a function error).
 *
 * @example
 * ```ts
 * import { lambdaHandler } from "./src/remote/lambda_handler.ts";
 * const answer = await lambdaHandler({ batch: "" }, { getRemainingTimeInMillis: () => 1000 });
 * console.assert(typeof answer.result === "string" && answer.cold === true);
 * ```
 * @throws {SkypoolError} when the event is not `{ batch }` or `{ batchUrl }`, or its URL is not a `file:`/`s3://` one.
 * @throws {ObjectNotFoundError} when the object `batchUrl` names is not there.
 */
export async function lambdaHandler(event: unknown, context: LambdaContextLike): Promise<LambdaBatchAnswer> {
  const cold = invocations++ === 0;
  await lambdaInit;
  const sealed = await batchOf(event);
  let answerUrl: string | undefined;
  // Lambda runs one invocation at a time per environment: the futures'
  // call runner reads this for `workerColdStart`.
  setColdBatch(cold);
  let answer: Uint8Array;
  try {
    answer = await handleBatch(sealed, {
      workerId: `lambda:${context.functionName ?? "?"}/${context.logStreamName ?? "?"}`,
      remainingMs: () => context.getRemainingTimeInMillis(),
      opened: (batch) => (answerUrl = batch.answerUrl),
    });
  } finally {
    setColdBatch(undefined);
  }
  const result = inlineBase64(answer);
  if (result !== undefined || answerUrl === undefined) {
    // Without a place to put it, an answer over the limit goes as it is
    // and Lambda refuses it (Function.ResponseSizeTooLarge): the caller
    // says what to configure.
    return { result: result ?? Buffer.from(answer).toString("base64"), cold };
  }
  await writePayload(answerUrl, answer);
  return { stored: true, cold };
}
