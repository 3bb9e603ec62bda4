/**
 * The one worker core of remote adapters (the fetch handler, the fleet
 * consumer, the Lambda handler): sealed batch bytes in, sealed result
 * bytes out.
 *
 * Order matters for safety: the envelope's MAC and expiry are checked
 * first, and a batch that fails either is answered with a refusal having
 * run nothing (no function loaded, no payload decoded, no environment
 * changed). Only then are the environment applied, the initializer run
 * (once per worker process and initializer), the function loaded and the
 * batch run by the same `runBatch` local workers use.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { hostname } from "node:os";
import process from "node:process";
import { config } from "../config.ts";
import { TimeoutError } from "../errors.ts";
import { AUTHKEY_ENV } from "../task/authkey.ts";
import { importBundle, loadedBundle } from "../task/bundle_loader.ts";
import { type FunctionRef, loadFunction } from "../task/function_loader.ts";
import { STATUS_NAMES } from "../transport/batch_status.ts";
import { type BatchResult, encodeThrown, runBatch, runOnce } from "../worker/run_batch.ts";
import { preloadDecoder } from "../task/cbor_decoder.ts";
import type { StdoutTarget } from "../execution/stdout_relay.ts";
import { withWorkerStdout } from "../worker/stdout_stream.ts";
import { messageOf } from "../worker/untrusted.ts";
import { type BatchEnvelope, openBatch, type ResultEnvelope, type ResultStatus, sealRefusal, sealResult } from "./envelope.ts";
import { localRef } from "./portable_ref.ts";

/** What an adapter tells the worker core. */
export interface RemoteWorkerOptions {
  /** Names this worker in results (default `${hostname}/${pid}`). */
  workerId?: string;
  /** Fetches a bundle by hash from where the caller stored it (fleet: Redis). */
  fetchBundle?(hash: string): Promise<string | undefined>;
  /** Time left before the platform stops this worker (Lambda), in ms. */
  remainingMs?(): number;
  /** Told of the batch once its signature and expiry verified (the Lambda handler reads its `answerUrl`). */
  opened?(batch: { readonly batchId: string; readonly answerUrl?: string }): void;
}

type Fn = (...args: unknown[]) => unknown;

/** Initializers run in this process, by initializer id and arguments. */
const initialized = new Map<string, Promise<BatchResult>>();

let defaultWorkerId: string | undefined;

function workerIdOf(options: RemoteWorkerOptions): string {
  return options.workerId ?? (defaultWorkerId ??= `${hostname()}/${process.pid}`);
}

/**
 * Imports the bundles `refs` need that this process has not imported yet,
 * from the batch (inline) or `fetchBundle`; returns the hashes it could
 * not find. `importBundle` checks each code against its hash.
 */
async function importBundles(refs: FunctionRef[], batch: BatchEnvelope, options: RemoteWorkerOptions): Promise<string[]> {
  const missing: string[] = [];
  for (const ref of refs) {
    if (ref.kind !== "bundle" || loadedBundle(ref.hash) !== undefined) continue;
    const code = batch.bundles?.[ref.hash] ?? await options.fetchBundle?.(ref.hash);
    if (code === undefined) missing.push(ref.hash);
    else await importBundle(ref.hash, code);
  }
  return missing;
}

/**
 * Loads a function; `skypool:` refs from this copy of skypool. Its batches
 * decode next: cbor-x's fast decoder loads alongside (the no-eval fallback
 * is loaded by `require`, which a bundled runtime such as Lambda's lacks).
 */
function load(ref: FunctionRef): Promise<Fn> {
  return Promise.all([loadFunction(localRef(ref)), preloadDecoder()]).then(([fn]) => fn);
}

/** Runs the batch's initializer once in this process; its result (ok or thrown) is kept. */
function initialize(setup: NonNullable<BatchEnvelope["setup"]>): Promise<BatchResult> {
  const id = `${setup.fn.id}\0${Buffer.from(setup.args).toString("base64")}`;
  let done = initialized.get(id);
  if (done === undefined) {
    done = load(setup.fn).then((fn) => runOnce(fn, setup.args), encodeThrown);
    initialized.set(id, done);
  }
  return done;
}

/**
 * Variables set for running batches, with the value each had before and
 * how many running batches set it: batches overlap in one worker process,
 * and the first to finish must not take a variable from one still running.
 */
const applied = new Map<string, { saved: string | undefined; users: number }>();

/** Sets `env` in this process's environment; returns what undoes it once no running batch needs it. */
function applyEnv(env: Readonly<Record<string, string>> | undefined): () => void {
  if (env === undefined) return () => {};
  for (const [k, v] of Object.entries(env)) {
    let entry = applied.get(k);
    if (entry === undefined) applied.set(k, entry = { saved: process.env[k], users: 0 });
    entry.users++;
    process.env[k] = v;
  }
  return () => {
    for (const k of Object.keys(env)) {
      const entry = applied.get(k)!;
      if (--entry.users > 0) continue;
      applied.delete(k);
      if (entry.saved === undefined) delete process.env[k];
      else process.env[k] = entry.saved;
    }
  };
}

async function run(batch: BatchEnvelope, options: RemoteWorkerOptions): Promise<Omit<ResultEnvelope, "batchId" | "workerId" | "workerStart" | "workerEnd">> {
  const refs = batch.setup ? [batch.fn, batch.setup.fn] : [batch.fn];
  const hashes = await importBundles(refs, batch, options);
  if (hashes.length > 0) return { status: "need-bundle", payload: new Uint8Array(0), hashes };
  const left = options.remainingMs?.();
  if ((batch.deadline !== undefined && Date.now() > batch.deadline) || (left !== undefined && left <= 0)) {
    const late = encodeThrown(new TimeoutError("the batch reached its worker after the caller's deadline; nothing ran"));
    return { status: "threw", payload: late.payload };
  }
  const restore = applyEnv(batch.env);
  try {
    if (batch.setup) {
      const init = await initialize(batch.setup);
      if (init.status !== 0) return { status: "init-failed", payload: init.payload };
    }
    let r: BatchResult;
    try {
      const fn = await load(batch.fn);
      // STREAM_STDOUT: the batch's lines also go to its caller as they are written.
      r = await withWorkerStdout(batch.stdout as StdoutTarget | undefined, () => runBatch(fn, batch.payload, batch.each));
    } catch (err) {
      r = encodeThrown(err);
    }
    const status = STATUS_NAMES[r.status] as ResultStatus;
    if (status === "unserializable") return { status, payload: new Uint8Array(0), message: new TextDecoder().decode(r.payload) };
    return { status, payload: r.payload };
  } finally {
    restore();
  }
}

/**
 * Runs one sealed batch and answers with sealed result bytes. A batch whose
 * signature does not verify (tampered, another key, garbage) or that has
 * expired is refused: nothing of it runs, and the answer is an unsigned
 * refusal saying why. A worker without an explicit authkey refuses
 * everything.
 *
 * @example
 * ```ts
 * import { handleBatch } from "./src/remote/remote_worker.ts";
 * import { openAnswer, sealBatch } from "./src/remote/envelope.ts";
 * import { decode, encode } from "./src/task/codec.ts";
 * import { config } from "./src/config.ts";
 * config.set({ authkey: "a-doc-key-of-16-chars" });
 * const fn = { kind: "source" as const, id: "s:double", source: "(x) => x * 2" };
 * const { bytes, batchId } = sealBatch({ fn, payload: encode([1, 2]), each: true, count: 2 });
 * const answer = openAnswer(await handleBatch(bytes), batchId);
 * console.assert(answer.kind === "result" && String(decode(answer.result.payload)) === "2,4");
 * config.reset();
 * ```
 */
export async function handleBatch(sealed: Uint8Array, options: RemoteWorkerOptions = {}): Promise<Uint8Array> {
  let key: string | undefined;
  try {
    key = config.get().authkey;
  } catch (err) {
    return sealRefusal(`this worker's configuration is invalid: ${messageOf(err)}`);
  }
  if (key === undefined) {
    return sealRefusal(`this worker has no authkey configured, so it runs nothing: set ${AUTHKEY_ENV} on it to the caller's key`);
  }
  let batch: BatchEnvelope;
  try {
    batch = openBatch(sealed, key);
  } catch (err) {
    return sealRefusal(`the worker refused the batch: ${messageOf(err)}`);
  }
  options.opened?.(batch);
  const workerStart = Date.now();
  let outcome: Awaited<ReturnType<typeof run>>;
  try {
    outcome = await run(batch, options);
  } catch (err) {
    outcome = { status: "threw", payload: encodeThrown(err).payload };
  }
  try {
    return sealResult({ ...outcome, batchId: batch.batchId, workerId: workerIdOf(options), workerStart, workerEnd: Date.now() }, key);
  } catch (err) {
    return sealRefusal(`the worker could not seal its result: ${messageOf(err)}`, batch.batchId);
  }
}
