// The wait before a retry: never sooner than Retry-After (seconds,
// fractional seconds, or an HTTP date), capped; else a doubling backoff
// with jitter, capped.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { retryDelay } from "../../src/remote/retry_delay.ts";

const BACKOFF = { baseMs: 100, maxMs: 5_000, retryAfterMaxMs: 60_000 };

/** `n` draws of `f` (the jitter is random: bounds must hold for every draw). */
function draws(f: () => number, n = 200): number[] {
  return Array.from({ length: n }, f);
}

describe("retryDelay", () => {
  test("Retry-After in seconds, fractional seconds or as an HTTP date: at least that, at most a quarter more", () => {
    for (const d of draws(() => retryDelay("3", 0, BACKOFF))) assert.ok(d >= 3000 && d <= 3750, String(d));
    for (const d of draws(() => retryDelay("0.05", 4, BACKOFF))) assert.ok(d >= 50 && d <= 62.5, String(d));
    for (const d of draws(() => retryDelay(new Date(10_000).toUTCString(), 0, BACKOFF, 8_000))) assert.ok(d >= 2000 && d <= 2500, String(d));
  });

  test("a Retry-After past the cap is cut to it; one in the past is no wait", () => {
    for (const d of draws(() => retryDelay("600", 0, BACKOFF))) assert.ok(d >= 60_000 && d <= 75_000, String(d));
    assert.equal(retryDelay(new Date(0).toUTCString(), 0, BACKOFF, 5_000), 0);
  });

  test("without Retry-After (or an unreadable one), the backoff doubles per retry up to its cap", () => {
    for (const d of draws(() => retryDelay(null, 3, BACKOFF))) assert.ok(d >= 400 && d <= 800, String(d));
    for (const d of draws(() => retryDelay("soon", 0, BACKOFF))) assert.ok(d >= 50 && d <= 100, String(d));
    for (const d of draws(() => retryDelay(undefined, 20, BACKOFF))) assert.ok(d >= 2500 && d <= 5000, String(d));
  });
});
