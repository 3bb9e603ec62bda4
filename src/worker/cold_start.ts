/**
 * Whether the batch a worker runs now started its execution environment
 * (a Lambda cold start), for the futures' per-call `workerColdStart`. The
 * Lambda handler sets it around each invocation (Lambda runs one at a time
 * per environment); other workers leave it unset. It lives on `globalThis`
 * because the handler and the call runner may be loaded as separate copies.
 *
 * @module
 */

const KEY = Symbol.for("skypool.coldBatch");

type Holder = { [KEY]?: boolean };

/**
 * Marks the running batch as cold (`true`), warm (`false`) or unknown (`undefined`).
 *
 * @example
 * ```ts
 * import { coldBatch, setColdBatch } from "./src/worker/cold_start.ts";
 * setColdBatch(true);
 * console.assert(coldBatch() === true);
 * setColdBatch(undefined);
 * console.assert(coldBatch() === undefined);
 * ```
 */
export function setColdBatch(cold: boolean | undefined): void {
  (globalThis as Holder)[KEY] = cold;
}

/** Whether the running batch started its environment; `undefined` where the platform does not say. */
export function coldBatch(): boolean | undefined {
  return (globalThis as Holder)[KEY];
}
