/**
 * The seam between the remote transport (which seals batches and opens
 * results) and a way of carrying bytes to remote workers: an HTTP POST, a
 * Redis Stream, a Lambda invoke. A channel moves opaque sealed bytes and
 * knows nothing of tasks, keys or statuses.
 *
 * @module
 */

/** What a channel is told of one sealed batch (for routing and timeouts, never for trust). */
export interface SendInfo {
  /** The batch's random id (also inside the sealed bytes). */
  readonly batchId: string;
  /** When the caller stops waiting, in ms since the epoch (optional). */
  readonly deadline?: number;
}

/**
 * Carries sealed batches to workers and their answers back.
 *
 * @example
 * ```ts
 * import type { BatchChannel } from "./src/remote/batch_channel.ts";
 * import { handleBatch } from "./src/remote/remote_worker.ts";
 * // A channel that runs every batch in this process (tests do this).
 * const inProcess: BatchChannel = {
 *   name: "in-process",
 *   start: async () => {},
 *   send: (sealed) => handleBatch(sealed),
 *   close: async () => {},
 *   terminate: async () => {},
 * };
 * console.assert(inProcess.name === "in-process");
 * ```
 */
export interface BatchChannel {
  /** Short name for messages: `"http"`, `"fleet"`, `"lambda"`. */
  readonly name: string;
  /**
   * Called once before the first `send` (connects, checks its settings).
   * @throws {SkypoolError} (rejects) when the channel cannot work (a setting is missing).
   */
  start(): Promise<void>;
  /**
   * Delivers one sealed batch and resolves with the bytes the worker
   * answered (a sealed result or a refusal). Aborting `signal` gives up on
   * it (the promise rejects with the signal's reason).
   * @throws {WorkerLostError|TimeoutError|SkypoolError} (rejects) when the
   *   batch cannot be delivered or its worker was lost.
   */
  send(sealed: Uint8Array, info: SendInfo, signal: AbortSignal): Promise<Uint8Array>;
  /**
   * Stores a bundle where workers fetch it by hash (fleet: in Redis, with
   * expiry). Without it, bundles travel inline, once per worker, when a
   * worker answers that it lacks one.
   */
  storeBundle?(hash: string, code: string): Promise<void>;
  /**
   * Where the worker puts its answer to batch `batchId` when the answer is
   * too large for the channel's message (an object URL, sealed into the
   * batch); `undefined` when the channel has nowhere to put it.
   */
  answerUrl?(batchId: string): string | undefined;
  /**
   * The encoded task bytes one batch should hold at most: larger chunks
   * are cut into several batches before they reach the channel (a single
   * task over it still goes as one batch).
   */
  readonly maxBatchBytes?: number;
  /** What the channel counted (Lambda: the invokes that were cold starts). */
  readonly stats?: { readonly coldStarts?: number };
  /** Releases the channel once in-flight sends have settled. */
  close(): Promise<void>;
  /** Releases it now: pending sends reject. */
  terminate(): Promise<void>;
}
