/**
 * Turns `map`'s `iterdata` into the list of call inputs. This is the one
 * place where an `objects(...urls)` input will be expanded into
 * `DataPartition`s (by the storage partitioner, with `objChunkSize`,
 * `objChunkNumber` and `objNewline`); every other input is read as it is.
 *
 * @module
 */

/** How object inputs are cut into partitions (used once `objects(...)` inputs exist). */
export interface PartitionOptions {
  objChunkSize?: number;
  objChunkNumber?: number;
  objNewline?: string | null;
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return x != null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/**
 * Checks that `iterdata` can be read, synchronously (so that a bad input
 * fails before anything is submitted).
 * @throws {TypeError} when it is neither iterable nor async iterable (a string counts as bad input: it would map over characters).
 */
export function checkIterdata(iterdata: unknown, what: string): void {
  if (typeof iterdata === "string") {
    throw new TypeError(`${what}: iterdata must be an iterable of call inputs, not a string (wrap it: [s])`);
  }
  if (!isAsyncIterable(iterdata) && (iterdata == null || typeof (iterdata as Iterable<unknown>)[Symbol.iterator] !== "function")) {
    throw new TypeError(`${what}: iterdata must be an iterable or async iterable, got ${iterdata === null ? "null" : typeof iterdata}`);
  }
}

/**
 * Every call input of `iterdata`, in order. The futures API makes one
 * future per input, so the whole input is read before the first call is
 * submitted: an input that throws fails the `map` before any call runs.
 */
export async function readIterdata(iterdata: Iterable<unknown> | AsyncIterable<unknown>, _partitioning: PartitionOptions): Promise<unknown[]> {
  if (Array.isArray(iterdata)) return iterdata.slice();
  const items: unknown[] = [];
  if (isAsyncIterable(iterdata)) for await (const x of iterdata) items.push(x);
  else for (const x of iterdata) items.push(x);
  return items;
}
