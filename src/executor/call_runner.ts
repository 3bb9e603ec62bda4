/**
 * The worker side of the futures API: runs the calls of one batch, each on
 * its own (one call's error never fails the others), and reports when the
 * batch and each call started and ended, by the worker's clock. Workers
 * import this module through a module reference; it loads only the codec
 * and the function loader, as the worker core does.
 *
 * @module
 */
import { hostname } from "node:os";
import process from "node:process";
import { type FunctionRef, loadFunction } from "../task/function_loader.ts";
import { Status } from "../transport/batch_status.ts";
import { decode, encode } from "../task/codec.ts";
import { encodeThrown } from "../worker/run_batch.ts";

/** What every call of a batch shares. */
export interface CallSpec {
  /** The user's function (a remote batch; inline batches pass the function itself). */
  fn?: FunctionRef;
  /** Appended to each call's arguments: call i is `fn(items[i], ...extraArgs)`. */
  extraArgs: unknown[];
  /** Environment variables set while the batch runs, restored after. */
  env?: Record<string, string>;
}

/** What a batch came to. */
export interface BatchReport {
  workerId: string;
  workerStartTime: number;
  workerEndTime: number;
  /** Per call: function start then end time. */
  times: Float64Array;
  /** Per call: its status byte (`Status`). */
  statuses: Uint8Array;
  /**
   * Per call: the value (OK), the thrown value (THREW), or the codec's
   * message for a value it refused (UNSERIALIZABLE).
   */
  results: unknown[];
}

type Fn = (...args: unknown[]) => unknown;

// Epoch ms from Date.now(): per call it costs a third of
// `performance.timeOrigin + performance.now()` on Deno, and one reading is
// taken per call. The host reads the same clock, so its times and the
// worker's compare on one machine.
const now = Date.now;

let workerId: string | undefined;
function thisWorker(): string {
  return workerId ??= `${hostname()}/${process.pid}`;
}

function setEnv(env: Record<string, string> | undefined): (() => void) | undefined {
  if (!env) return undefined;
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(env)) {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * Runs `fn(item, ...extraArgs)` for every item, in order, awaiting each,
 * and reports how each call ended.
 */
export async function runCalls(fn: Fn, spec: CallSpec, items: unknown[], id = thisWorker()): Promise<BatchReport> {
  const workerStartTime = now();
  const n = items.length;
  const times = new Float64Array(2 * n);
  const statuses = new Uint8Array(n);
  const results = new Array<unknown>(n);
  const extra = spec.extraArgs;
  const restore = setEnv(spec.env);
  let t = now();
  try {
    // One clock reading per call boundary: a call ends when the reading
    // after it is taken, and the next one starts then (clock reads cost
    // about as much as a trivial call).
    for (let i = 0; i < n; i++) {
      times[2 * i] = t;
      try {
        let value = extra.length === 0 ? fn(items[i]) : fn(items[i], ...extra);
        if (value !== null && typeof (value as PromiseLike<unknown>)?.then === "function") value = await value;
        results[i] = value;
      } catch (err) {
        statuses[i] = Status.THREW;
        results[i] = err;
      }
      times[2 * i + 1] = t = now();
    }
  } finally {
    restore?.();
  }
  return { workerId: id, workerStartTime, workerEndTime: t, times, statuses, results };
}

/**
 * Encodes a report in one pass. When some value cannot be encoded, only
 * its call fails: a refused value becomes UNSERIALIZABLE with the codec's
 * message, a refused thrown value a plain `Error` that describes it.
 */
export function encodeReport(report: BatchReport): Uint8Array {
  try {
    return encode(report);
  } catch {
    const { results, statuses } = report;
    for (let i = 0; i < results.length; i++) {
      try {
        encode(results[i]);
      } catch (err) {
        if (statuses[i] === Status.THREW) results[i] = decode(encodeThrown(results[i]).payload);
        else {
          statuses[i] = Status.UNSERIALIZABLE;
          results[i] = String((err as Error)?.message ?? err);
        }
      }
    }
    return encode(report);
  }
}

/**
 * The batch entry workers call (through `task(thisModule, "runShippedCalls")`):
 * loads the shipped function, runs the calls, and returns the encoded
 * {@link BatchReport}.
 */
export async function runShippedCalls(spec: CallSpec, items: unknown[]): Promise<Uint8Array> {
  if (!spec.fn) throw new TypeError("runShippedCalls: the batch carries no function");
  const fn = await loadFunction(spec.fn) as Fn;
  return encodeReport(await runCalls(fn, spec, items));
}
