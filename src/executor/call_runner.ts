/**
 * The worker side of the futures API: runs the calls of one batch, each on
 * its own (one call's error never fails the others), and reports when the
 * batch and each call started and ended, by the worker's clock. Workers
 * import this module through a module reference; it loads only the codec
 * and the function loader, as the worker core does.
 *
 * @module
 */
import { compiledFunction, type FunctionRef, loadFunction } from "../task/function_loader.ts";
import { Status } from "../transport/batch_status.ts";
import { decode, encode } from "../task/codec.ts";
import { encodeThrown } from "../worker/run_batch.ts";
import { coldBatch } from "../worker/cold_start.ts";
import { nodeOs } from "../runtime/builtins.ts";

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
  /** The batch started its execution environment (a Lambda cold start); absent where the worker cannot tell. */
  coldStart?: boolean;
  workerEndTime: number;
  /**
   * The clock readings taken while the calls ran: reading k was taken
   * when `at[k]` calls had finished (`at[0]` = 0, at the start). One call
   * ends when the next starts; {@link expandBounds} gives each call's
   * times (see {@link runCalls} for how precise they are). Readings, not a
   * time per call: a map of tiny calls shares one reading among many, and
   * the report stays the size of its results.
   */
  marks: Float64Array;
  /** See {@link BatchReport.marks}. */
  at: Uint32Array;
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
// `performance.timeOrigin + performance.now()` on Deno. The host reads the
// same clock, so its times and the worker's compare on one machine. Called
// as `Date.now()`: V8 runs a detached `const now = Date.now; now()` about
// half as fast.
const now = () => Date.now();

/**
 * Calls that share one clock reading at most. A reading costs 60-110 ns
 * (more than a trivial call), so reading it around every call doubled the
 * worker's time on maps of tiny calls.
 */
const MAX_RUN = 64;

let workerId: string | undefined;
function thisWorker(): string {
  return workerId ??= `${nodeOs().hostname()}/${process.pid}`;
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as PromiseLike<unknown>).then === "function";
}

/**
 * The boundaries of a batch's `n` calls from its readings: call i ran from
 * `bounds[i]` to `bounds[i + 1]`; calls that shared readings share the
 * time between them evenly.
 *
 * @example
 * ```ts
 * import { expandBounds } from "./src/executor/call_runner.ts";
 * const b = expandBounds(new Float64Array([100, 104]), new Uint32Array([0, 4]), 4);
 * console.assert(b.join() === "100,101,102,103,104");
 * ```
 */
export function expandBounds(marks: Float64Array, at: Uint32Array, n: number): Float64Array {
  const bounds = new Float64Array(n + 1);
  bounds[0] = marks[0];
  for (let k = 1; k < marks.length; k++) {
    const from = at[k - 1], to = at[k], t0 = marks[k - 1];
    const step = (marks[k] - t0) / (to - from);
    for (let j = from + 1; j < to; j++) bounds[j] = t0 + step * (j - from);
    bounds[to] = marks[k];
  }
  return bounds;
}

/**
 * Runs `fn(item, ...extraArgs)` for every item, in order, awaiting each,
 * and reports how each call ended and when.
 *
 * The clock (1 ms resolution) is read after every call while calls take a
 * tick or more, and around every call that returns a promise or throws.
 * Calls that return at once and prove quicker than a tick share readings,
 * in runs that double up to {@link MAX_RUN} calls while a run stays within
 * one tick and fall back to one call as soon as one does not: each call of
 * a run is given an equal share of the run's time. That is as precise as a
 * reading per call would be for calls under a tick, except for a slow call
 * right after a stretch of quick ones: its time is shared with the (at
 * most `MAX_RUN - 1`) others of its run.
 */
export function runCalls(fn: Fn, spec: CallSpec, items: unknown[], id = thisWorker()): BatchReport | Promise<BatchReport> {
  const restore = setEnv(spec.env);
  if (restore === undefined) return callEach(fn, spec.extraArgs, items, id);
  let report: BatchReport | Promise<BatchReport>;
  try {
    report = callEach(fn, spec.extraArgs, items, id);
  } catch (err) {
    restore();
    throw err;
  }
  if (!(report instanceof Promise)) {
    restore();
    return report;
  }
  return report.finally(restore);
}

/** Where a batch's loop is: what {@link callFrom} needs to go on after an awaited call. */
interface Progress {
  fn: Fn;
  extra: unknown[];
  items: unknown[];
  id: string;
  workerStartTime: number;
  coldStart: boolean | undefined;
  statuses: Uint8Array;
  results: unknown[];
  marks: number[];
  at: number[];
  /** The last reading. */
  t: number;
  /** Calls from `from` on ran since reading `t`... */
  from: number;
  /** ...and the next reading is due after `run` of them. */
  run: number;
}

function callEach(fn: Fn, extra: unknown[], items: unknown[], id: string): BatchReport | Promise<BatchReport> {
  const t = now();
  const n = items.length;
  return callFrom({
    fn,
    extra,
    items,
    id,
    workerStartTime: t,
    coldStart: coldBatch(),
    statuses: new Uint8Array(n),
    results: new Array<unknown>(n),
    marks: [t],
    at: [0],
    t,
    from: 0,
    run: 1,
  }, 0);
}

/**
 * Runs the calls from `start` on: synchronously while they return at once
 * (a batch of synchronous calls costs no microtask), and on from an
 * awaited call's settlement when one returns a promise.
 */
function callFrom(p: Progress, start: number): BatchReport | Promise<BatchReport> {
  const { fn, extra, items, statuses, results, marks, at } = p;
  const n = items.length;
  let { t, from, run } = p;
  for (let i = start; i < n; i++) {
    let exact = false;
    try {
      const value = extra.length === 0 ? fn(items[i]) : fn(items[i], ...extra);
      if (isThenable(value)) {
        // An awaited call is timed on its own: close the run of quick calls before it.
        if (from < i) {
          t = now();
          marks.push(t);
          at.push(i);
        }
        p.t = t;
        p.from = i;
        p.run = 1;
        return Promise.resolve(value).then(
          (v) => void (results[i] = v),
          (err) => {
            statuses[i] = Status.THREW;
            results[i] = err;
          },
        ).then(() => {
          p.t = now();
          marks.push(p.t);
          at.push(i + 1);
          p.from = i + 1;
          return callFrom(p, i + 1);
        });
      }
      results[i] = value;
    } catch (err) {
      // The call threw, or its `then` getter did (as awaiting it would).
      statuses[i] = Status.THREW;
      results[i] = err;
      exact = true;
    }
    if (exact || i + 1 - from >= run || i + 1 === n) {
      const t1 = now();
      marks.push(t1);
      at.push(i + 1);
      run = !exact && t1 === t ? Math.min(run * 2, MAX_RUN) : 1;
      t = t1;
      from = i + 1;
    }
  }
  const report: BatchReport = { workerId: p.id, workerStartTime: p.workerStartTime, workerEndTime: t, marks: Float64Array.from(marks), at: Uint32Array.from(at), statuses, results };
  if (p.coldStart !== undefined) report.coldStart = p.coldStart;
  return report;
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
export function runShippedCalls(spec: CallSpec, items: unknown[]): Uint8Array | Promise<Uint8Array> {
  if (!spec.fn) throw new TypeError("runShippedCalls: the batch carries no function");
  const fn = compiledFunction(spec.fn);
  // Synchronous when it can be: the worker core then answers a batch of
  // synchronous calls without a microtask, and holds its result back to
  // share one write with the next ones (it flushes before awaiting a batch).
  if (fn === undefined) return loadFunction(spec.fn).then((f) => runCalls(f as Fn, spec, items)).then(encodeReport);
  const report = runCalls(fn as Fn, spec, items);
  return report instanceof Promise ? report.then(encodeReport) : encodeReport(report);
}
