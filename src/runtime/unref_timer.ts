/**
 * Lets a timer not keep the program alive, on Node (`Timeout.unref`) and
 * Deno (`Deno.unrefTimer`).
 *
 * @module
 */

/**
 * Unrefs a timer returned by `setTimeout`/`setInterval` on either runtime.
 *
 * @example
 * ```ts
 * import { unrefTimer } from "./src/runtime/unref_timer.ts";
 * unrefTimer(setTimeout(() => {}, 60_000));
 * ```
 */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === "number") {
    const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
    deno?.unrefTimer?.(timer);
  } else {
    (timer as { unref?(): void })?.unref?.();
  }
}
