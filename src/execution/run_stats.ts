/**
 * Counters of what an execution core ran: tasks done and failed, and the
 * run times of recent chunks, for `Pool.stats()`. Recording is a few
 * additions and one array store per chunk; percentiles are computed only
 * when asked for.
 *
 * @module
 */

/** What `Pool.stats()` reports. */
export interface PoolStats {
  /** Tasks whose chunk succeeded. */
  readonly tasksDone: number;
  /**
   * Tasks whose chunk failed: a task threw (its whole chunk counts), a
   * worker was lost, or the job was aborted or timed out.
   */
  readonly tasksFailed: number;
  /**
   * Worker processes up now, started and not exited (0 inline). Just after
   * start it can be below the pool's size: a pool starts half its workers
   * first and the rest once one of those is ready.
   */
  readonly workersAlive: number;
  /** Workers started to replace one that exited: died, killed by an abort or timeout, or recycled by `maxtasksperchild`. */
  readonly workersReplaced: number;
  /** Chunks submitted that no worker has started yet. */
  readonly queuedChunks: number;
  /**
   * Batches that started a new execution environment (Lambda cold starts,
   * each paying the function's start-up); 0 on transports whose workers
   * stay up.
   */
  readonly coldStarts: number;
  /**
   * Percentiles of the run times (ms) of the last {@link RUN_TIME_WINDOW}
   * chunks that succeeded, from a worker starting the chunk to its result
   * arriving; `NaN` before the first.
   */
  readonly runTimeMs: { readonly p50: number; readonly p90: number; readonly p99: number };
}

/** How many recent chunk run times the percentiles cover. */
export const RUN_TIME_WINDOW = 4096;

/**
 * The `q`-quantile (0…1) of ascending `sorted`, by the nearest-rank
 * method (a value that occurred); `NaN` when empty.
 *
 * @example
 * ```ts
 * import { quantile } from "./src/execution/run_stats.ts";
 * console.assert(quantile([1, 2, 3, 4], 0.5) === 2 && quantile([1, 2, 3, 4], 0.99) === 4);
 * ```
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Task counts and recent chunk run times of one execution core.
 *
 * @example
 * ```ts
 * import { RunStats } from "./src/execution/run_stats.ts";
 * const s = new RunStats();
 * s.record(3, true, 12);
 * s.record(2, false);
 * console.assert(s.tasksDone === 3 && s.tasksFailed === 2 && s.runTimeMs().p50 === 12);
 * ```
 */
export class RunStats {
  /** Tasks whose chunk succeeded. */
  tasksDone = 0;
  /** Tasks whose chunk failed. */
  tasksFailed = 0;
  #times = new Float64Array(RUN_TIME_WINDOW);
  #count = 0;

  /** One chunk of `tasks` ended; `runMs` is its run time when it ran to success. */
  record(tasks: number, ok: boolean, runMs?: number): void {
    if (ok) this.tasksDone += tasks;
    else this.tasksFailed += tasks;
    if (ok && runMs !== undefined) this.#times[this.#count++ % RUN_TIME_WINDOW] = runMs;
  }

  /** p50, p90 and p99 of the recorded run times (ms). */
  runTimeMs(): { p50: number; p90: number; p99: number } {
    const sorted = Array.from(this.#times.subarray(0, Math.min(this.#count, RUN_TIME_WINDOW))).sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99) };
  }
}
