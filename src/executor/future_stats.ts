/**
 * What one call of the futures API records about itself: the shape both the
 * executor (which fills it) and the plots (which draw it) agree on.
 *
 * @module
 */

/**
 * Timings and facts of one call, as `ResponseFuture.stats` exposes them.
 * Times are epoch milliseconds; the worker times are as the worker's clock
 * saw them. A time is `undefined` until the call reaches that point.
 *
 * @example
 * ```ts
 * import type { FutureStats } from "./future_stats.ts";
 * const s: FutureStats = { hostSubmitTime: Date.now(), attempts: 1 };
 * console.assert(s.workerStartTime === undefined);
 * ```
 */
export interface FutureStats {
  /** When the caller submitted the call. */
  hostSubmitTime: number;
  /** When a worker started on the batch holding the call. */
  workerStartTime?: number;
  /** When the user's function was entered. */
  functionStartTime?: number;
  /** When the user's function returned or threw (its promise settled). */
  functionEndTime?: number;
  /** When the worker finished the batch holding the call. */
  workerEndTime?: number;
  /** When the caller received the outcome. */
  hostResultTime?: number;
  /** Which worker ran the (last) attempt. */
  workerId?: string;
  /**
   * The (last) attempt's batch started a new execution environment: a
   * Lambda cold start (Lithops' `worker_cold_start`). Absent on transports
   * whose workers cannot tell (local, fleet, http).
   */
  workerColdStart?: boolean;
  /** How many times the call was tried (1 without retries). */
  attempts: number;
  /** Encoded size of the result in bytes. */
  resultSize?: number;
}
