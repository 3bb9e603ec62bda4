/**
 * Test helper: a `BatchChannel` that hands each sealed batch to
 * `handleBatch` in this process, optionally changing the bytes on the way
 * (`alter`) or replacing the answer (`answer`), and recording what it saw.
 *
 * @module
 */
import type { BatchChannel, SendInfo } from "../../src/remote/batch_channel.ts";
import { handleBatch } from "../../src/remote/remote_worker.ts";

/** Options of {@link inMemoryChannel}. */
export interface InMemoryChannelOptions {
  /** Changes the sealed bytes before the worker sees them. */
  alter?(sealed: Uint8Array): Uint8Array;
  /** Replaces the worker's answer. */
  answer?(sealed: Uint8Array, answered: Uint8Array): Uint8Array;
  /** Waits this long (ms) before handing the batch over (aborts end the wait). */
  delayMs?: number;
  /** The channel's byte budget per batch (`BatchChannel.maxBatchBytes`). */
  maxBatchBytes?: number;
}

/** A channel into `handleBatch` in this process, with counters. */
export interface InMemoryChannel extends BatchChannel {
  /** Sends seen, with their info. */
  readonly sent: SendInfo[];
  /** Most sends in flight at one time. */
  readonly mostInFlight: number;
  readonly closed: boolean;
  readonly terminated: boolean;
}

/** Makes an {@link InMemoryChannel}. */
export function inMemoryChannel(options: InMemoryChannelOptions = {}): InMemoryChannel {
  let inFlight = 0;
  const state = { sent: [] as SendInfo[], mostInFlight: 0, closed: false, terminated: false };
  return {
    name: "memory",
    ...(options.maxBatchBytes !== undefined ? { maxBatchBytes: options.maxBatchBytes } : {}),
    get sent() {
      return state.sent;
    },
    get mostInFlight() {
      return state.mostInFlight;
    },
    get closed() {
      return state.closed;
    },
    get terminated() {
      return state.terminated;
    },
    start: () => Promise.resolve(),
    async send(sealed, info, signal) {
      state.sent.push(info);
      state.mostInFlight = Math.max(state.mostInFlight, ++inFlight);
      try {
        if (options.delayMs) {
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, options.delayMs);
            signal.addEventListener("abort", () => {
              clearTimeout(timer);
              reject(signal.reason);
            }, { once: true });
          });
        }
        const answered = await handleBatch(options.alter ? options.alter(sealed) : sealed);
        return options.answer ? options.answer(sealed, answered) : answered;
      } finally {
        inFlight--;
      }
    },
    close: () => {
      state.closed = true;
      return Promise.resolve();
    },
    terminate: () => {
      state.terminated = true;
      return Promise.resolve();
    },
  };
}
