/**
 * Waiting on many futures: `wait` (with Lithops' `returnWhen` conditions)
 * and collecting their results. A timeout returns or rejects without
 * touching any future.
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import { onSettled, readAll, type ResponseFuture } from "./response_future.ts";

/** `wait` returns as soon as one future is done. */
export const ANY_COMPLETED = "ANY_COMPLETED";
/** `wait` returns when every future is done (the default). */
export const ALL_COMPLETED = "ALL_COMPLETED";
/** `wait` returns at once, with what is done so far. */
export const ALWAYS = "ALWAYS";

/** When `wait` returns. */
export type ReturnWhen = typeof ANY_COMPLETED | typeof ALL_COMPLETED | typeof ALWAYS;

/** The futures done when `wait` returned, and the rest. */
export interface WaitResult {
  /** The futures that had finished (successfully or not). */
  done: ResponseFuture[];
  /** The futures still running or queued. */
  notDone: ResponseFuture[];
}

const RETURN_WHEN: readonly string[] = [ANY_COMPLETED, ALL_COMPLETED, ALWAYS];

/**
 * Checks a `returnWhen` option.
 * @throws {RangeError} for anything but the three constants.
 */
export function checkReturnWhen(value: unknown, what: string): ReturnWhen {
  if (value === undefined) return ALL_COMPLETED;
  if (typeof value !== "string" || !RETURN_WHEN.includes(value)) {
    throw new RangeError(`${what}: returnWhen must be ANY_COMPLETED, ALL_COMPLETED or ALWAYS, got ${JSON.stringify(value)}`);
  }
  return value as ReturnWhen;
}

/** Resolves once any one of the futures is done. */
function anySettled(fs: readonly ResponseFuture[]): Promise<void> {
  if (fs.some((f) => f.done())) return Promise.resolve();
  return new Promise<void>((resolve) => {
    for (const f of fs) onSettled(f, resolve);
  });
}

/**
 * Resolves once every future is done. It waits on the first future not yet
 * done, and when that one settles moves past every done one to the next:
 * one callback per wake-up rather than one per future, and each future
 * looked at about once whatever order they finish in.
 */
function allSettled(fs: readonly ResponseFuture[]): Promise<void> {
  let i = 0;
  return new Promise<void>((resolve) => {
    const advance = () => {
      while (i < fs.length && fs[i].done()) i++;
      if (i === fs.length) resolve();
      else onSettled(fs[i], advance);
    };
    advance();
  });
}

/**
 * Waits until `returnWhen` holds or `ms` have passed, then splits the
 * futures into done and not done. With `throwExcept`, rejects with the
 * error of the first done future (in the given order) that failed.
 */
export async function waitFutures(fs: readonly ResponseFuture[], returnWhen: ReturnWhen, ms: number | undefined, throwExcept: boolean): Promise<WaitResult> {
  if (returnWhen !== ALWAYS && fs.length > 0) await reachedOrTimeout(returnWhen === ANY_COMPLETED ? anySettled(fs) : allSettled(fs), ms);
  const done: ResponseFuture[] = [];
  const notDone: ResponseFuture[] = [];
  for (const f of fs) (f.done() ? done : notDone).push(f);
  if (throwExcept) {
    const failed = done.find((f) => f.status === "error");
    if (failed) throw failed.error;
  }
  return { done, notDone };
}

/** Waits for `reached`, or `ms` at most. */
async function reachedOrTimeout(reached: Promise<void>, ms: number | undefined): Promise<void> {
  if (ms === undefined) return await reached;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([reached, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Every future's value, in order, once all are done. With `throwExcept`,
 * rejects with the first failed future's error; without, its slot holds
 * the error.
 * @throws (rejects) {TimeoutError} when they are not all done within `ms`; the futures stay usable.
 */
export async function collectResults(fs: readonly ResponseFuture[], ms: number | undefined, throwExcept: boolean): Promise<unknown[]> {
  if (fs.length > 0) await reachedOrTimeout(allSettled(fs), ms);
  // One pass over the batches' arrays (no done/notDone lists: a map makes many futures).
  const out = new Array<unknown>(fs.length);
  const { notDone, failed } = readAll(fs, out);
  if (throwExcept && failed !== undefined) throw failed.error;
  if (notDone > 0) throw new TimeoutError(`${notDone} of ${fs.length} calls did not finish within ${ms} ms`);
  return out;
}
