/**
 * How long a remote channel (http, lambda) waits before trying a refused
 * call again: never sooner than the server's `Retry-After`, else an
 * exponential backoff; with jitter, so that calls throttled together do
 * not all come back together.
 *
 * @module
 */

/** A channel's backoff constants. */
export interface Backoff {
  /** The first wait (ms) without `Retry-After`; it doubles per retry... */
  readonly baseMs: number;
  /** ...up to this (ms). */
  readonly maxMs: number;
  /** The longest `Retry-After` honoured (ms): a longer one is cut to this. */
  readonly retryAfterMaxMs: number;
}

/** `Retry-After` waits are spread over up to this fraction more, never less. */
const RETRY_AFTER_SPREAD = 0.25;

/**
 * The wait (ms) before retry number `retries + 1`: `retryAfter` (seconds,
 * possibly fractional, or an HTTP date) spread up to a quarter later, else
 * `baseMs × 2^retries` (at most `maxMs`) with equal jitter (half to all of it).
 *
 * @example
 * ```ts
 * import { retryDelay } from "./src/remote/retry_delay.ts";
 * const backoff = { baseMs: 100, maxMs: 5_000, retryAfterMaxMs: 60_000 };
 * const d = retryDelay("2", 0, backoff);
 * console.assert(d >= 2000 && d <= 2500);
 * const b = retryDelay(undefined, 1, backoff);
 * console.assert(b >= 100 && b <= 200);
 * ```
 */
export function retryDelay(retryAfter: string | null | undefined, retries: number, backoff: Backoff, now: number = Date.now()): number {
  if (retryAfter !== null && retryAfter !== undefined) {
    const text = retryAfter.trim();
    const ms = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
    if (Number.isFinite(ms)) return Math.min(Math.max(0, ms), backoff.retryAfterMaxMs) * (1 + Math.random() * RETRY_AFTER_SPREAD);
  }
  const ceiling = Math.min(backoff.baseMs * 2 ** retries, backoff.maxMs);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
