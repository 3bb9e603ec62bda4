/**
 * Turns `map`'s `iterdata` into the list of call inputs. This is the one
 * place where an `objects(...urls)` input is expanded into `DataPartition`s
 * (by the storage partitioner, with `objChunkSize`, `objChunkNumber` and
 * `objNewline`); every other input is read as it is.
 *
 * @module
 */
import { isObjectsInput } from "../storage/objects.ts";
import { partitionObjects, type PartitionOptions } from "../storage/partitioner.ts";

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return x != null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/**
 * Checks that `iterdata` can be read, synchronously (so that a bad input
 * fails before anything is submitted): an iterable, an async iterable, or
 * an `objects(...)` input.
 * @throws {TypeError} when it is none of those (a string counts as bad input: it would map over characters).
 */
export function checkIterdata(iterdata: unknown, what: string): void {
  if (isObjectsInput(iterdata)) return;
  if (typeof iterdata === "string") {
    throw new TypeError(`${what}: iterdata must be an iterable of call inputs, not a string (wrap it: [s]; for a file to partition: objects(path))`);
  }
  if (!isAsyncIterable(iterdata) && (iterdata == null || typeof (iterdata as Iterable<unknown>)[Symbol.iterator] !== "function")) {
    throw new TypeError(`${what}: iterdata must be an iterable, an async iterable or objects(...urls), got ${iterdata === null ? "null" : typeof iterdata}`);
  }
}

/**
 * Every call input of `iterdata`, in order; an `objects(...)` input gives
 * one `DataPartition` per partition of each object. The futures API makes
 * one future per input, so the whole input is read (and every object
 * listed and cut) before the first call is submitted: an input that
 * throws, or a missing object, fails the `map` before any call runs.
 * @throws (rejects) what the input throws; {ObjectNotFoundError} for a missing object, folder or bucket.
 */
export async function readIterdata(iterdata: unknown, partitioning: PartitionOptions): Promise<unknown[]> {
  if (Array.isArray(iterdata)) return iterdata.slice();
  const source = isObjectsInput(iterdata) ? partitionObjects(iterdata, partitioning) : iterdata as Iterable<unknown> | AsyncIterable<unknown>;
  const items: unknown[] = [];
  if (isAsyncIterable(source)) for await (const x of source) items.push(x);
  else for (const x of source) items.push(x);
  return items;
}
