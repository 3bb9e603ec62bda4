/**
 * A pause that an `AbortSignal` ends early: the wait between retries of a
 * remote call, which a stopped batch must not sit out.
 *
 * @module
 */

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as `signal`
 * aborts (at once if it already has).
 *
 * @example
 * ```ts
 * import { abortableSleep } from "./src/remote/abortable_sleep.ts";
 * await abortableSleep(1, new AbortController().signal);
 * const stop = new AbortController();
 * stop.abort(new Error("stopped"));
 * await abortableSleep(10_000, stop.signal).catch((e) => console.assert(e.message === "stopped"));
 * ```
 * @throws (rejects) `signal.reason` when the signal aborts first.
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
