/**
 * `Event` in Redis.
 *
 * @module
 */
import { registerStateHandle, restoreHandle, StateHandle } from "./handle.ts";
import { newToken, waitForWake } from "./lease.ts";
import { checkTimeout } from "../validate.ts";
import { EVENT_CANCEL, EVENT_CLEAR, EVENT_SET, EVENT_WAIT } from "./lua/event.ts";

/**
 * A flag shared through Redis that processes can wait for (Python's
 * `multiprocessing.Event`). `set()` wakes every process waiting at that
 * moment, even if `clear()` follows at once.
 *
 * @example
 * ```ts
 * import { Event } from "./mod.ts";
 * const ev = new Event();
 * console.assert(await ev.wait(20) === false);
 * await ev.set();
 * console.assert(await ev.isSet() && await ev.wait());
 * await ev.clear();
 * ```
 */
export class Event extends StateHandle {
  constructor() {
    super("event");
  }

  #keys(): string[] {
    return [this.key(), this.key("waiters")];
  }

  /** Whether the flag is set. */
  async isSet(): Promise<boolean> {
    return (await this.ctx.run<number>(EVENT_WAIT, this.#keys(), [""])) === 1;
  }

  /** Sets the flag and wakes every current waiter. */
  async set(): Promise<void> {
    await this.ctx.run(EVENT_SET, this.#keys(), []);
  }

  /** Clears the flag. */
  async clear(): Promise<void> {
    await this.ctx.run(EVENT_CLEAR, this.#keys(), []);
  }

  /**
   * Waits until the flag is set (or was set while waiting) or `timeout` ms
   * pass; resolves `true` if set, `false` on timeout.
   *
   * @throws {TypeError|RangeError} for a bad timeout.
   */
  async wait(timeout?: number): Promise<boolean> {
    const t = checkTimeout("Event.wait timeout", timeout);
    const ctx = this.ctx;
    const keys = this.#keys();
    if (t === 0) return await this.isSet();
    const wake = this.key(`w:${newToken()}`);
    if ((await ctx.run<number>(EVENT_WAIT, [...keys, wake], [wake])) === 1) return true;
    let woken = false;
    try {
      woken = (await waitForWake(ctx, wake, t, keys)) !== null;
    } finally {
      if (!woken) woken = (await ctx.run<number>(EVENT_CANCEL, [...keys, wake], [wake])) === 1;
    }
    return woken;
  }
}

registerStateHandle("event", Event, () => ({}), (r) => restoreHandle(r, () => new Event()));
