/**
 * Cuts a chunk whose encoded tasks are over a transport's byte budget
 * (`Transport.maxBatchBytes`, Lambda's invoke limit) into consecutive
 * pieces that fit, and joins the pieces' outcomes back into the chunk's:
 * a map of many medium items then makes several invokes that fit rather
 * than one that does not. Order is kept; a single task over the budget
 * stays one piece (the transport passes it by reference).
 *
 * @module
 */
import { encode } from "../task/codec.ts";
import type { ChunkOutcome } from "./chunk_feeder.ts";

/** Consecutive tasks of a chunk and their encoding. */
export interface Piece {
  readonly tasks: unknown[];
  readonly payload: Uint8Array;
}

/**
 * `tasks` (encoded as `payload`) cut into consecutive pieces of at most
 * `maxBytes` encoded bytes each, but for single tasks larger than that.
 *
 * @example
 * ```ts
 * import { cutBySize } from "./src/execution/batch_cutter.ts";
 * import { encode } from "./src/task/codec.ts";
 * const tasks = Array.from({ length: 8 }, (_, i) => "x".repeat(1000) + i);
 * const pieces = cutBySize(tasks, encode(tasks), 2500);
 * console.assert(pieces.length >= 4 && pieces.every((p) => p.payload.length <= 2500));
 * console.assert(pieces.flatMap((p) => p.tasks).join() === tasks.join());
 * ```
 * @throws {SerializationError} as `encode`, for a piece that cannot be encoded (the whole chunk encoded, so it does not happen).
 */
export function cutBySize(tasks: unknown[], payload: Uint8Array, maxBytes: number): Piece[] {
  if (payload.length <= maxBytes || tasks.length <= 1) return [{ tasks, payload }];
  // Even cuts by count first (one encoding of each), then a piece still
  // over the budget (its tasks are larger than the average) is cut again.
  const per = Math.ceil(tasks.length / Math.min(tasks.length, Math.ceil(payload.length / maxBytes)));
  const pieces: Piece[] = [];
  for (let i = 0; i < tasks.length; i += per) {
    const sub = tasks.slice(i, i + per);
    pieces.push(...cutBySize(sub, encode(sub), maxBytes));
  }
  return pieces;
}

/**
 * The chunk's outcome from its pieces' (in order): their values joined
 * when all succeeded, else the first failed piece's outcome (as a chunk
 * fails as a whole, at its first failing task).
 *
 * @example
 * ```ts
 * import { joinOutcomes } from "./src/execution/batch_cutter.ts";
 * const joined = joinOutcomes([{ ok: true, values: [1, 2] }, { ok: true, values: [3] }]);
 * console.assert(joined.ok && joined.values.join() === "1,2,3");
 * ```
 */
export function joinOutcomes(outcomes: readonly ChunkOutcome[]): ChunkOutcome {
  const failed = outcomes.find((o) => !o.ok);
  if (failed) return failed;
  return { ok: true, values: outcomes.flatMap((o) => (o as { values: unknown[] }).values) };
}
