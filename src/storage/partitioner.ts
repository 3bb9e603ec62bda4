/**
 * Object partitioning: lists the objects of an `objects(...)` input and cuts
 * each into byte ranges, moving each cut to just after a newline when asked,
 * by scanning a small window read from storage around the cut (the caller
 * never reads a whole object).
 *
 * @module
 */
import { fsPromises, nodeUrl } from "../runtime/builtins.ts";
import { findByte } from "../task/wasm_core.ts";
import { DataPartition } from "./data_partition.ts";
import { isObjectsInput, type ObjectsInput } from "./objects.ts";
import type { S3Options } from "./s3_options.ts";
import { locateObject, type Storage, storageScheme } from "./storage.ts";
import { ObjectNotFoundError } from "./storage_errors.ts";

/** How to cut objects (the `map` options of the same names). */
export interface PartitionOptions {
  /** Bytes per partition (before moving cuts to newlines). */
  objChunkSize?: number;
  /** Partitions per object; wins over `objChunkSize` when both are given. */
  objChunkNumber?: number;
  /** Cut just after this one-byte character; `null` cuts raw byte ranges. @default `"\n"` */
  objNewline?: string | null;
  /** S3 client settings for listing and reading. @default config `storage.s3` */
  s3?: S3Options;
}

/** {@link PartitionOptions} checked: at most one of the sizes, and the newline as a byte. */
export interface CheckedPartitionOptions {
  /** `objChunkSize`, unless `objChunkNumber` was given. */
  chunkSize?: number;
  /** `objChunkNumber`. */
  chunkNumber?: number;
  /** The byte to cut after, or `null`. */
  newline: number | null;
  /** `s3`, as given. */
  s3?: S3Options;
}

/** First bytes read after a nominal cut to find its newline; doubled while none is found. */
const FIRST_WINDOW = 64 * 1024;
const MAX_WINDOW = 4 << 20;
/** Cuts of one object searched at once (each is one small read). */
const CUT_CONCURRENCY = 8;

function positiveInteger(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number") throw new TypeError(`${name} must be a number, got ${v === null ? "null" : typeof v}`);
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${name} must be an integer > 0, got ${v}`);
  return v;
}

/**
 * Checks partitioning options (synchronously, before anything is listed).
 *
 * @example
 * ```ts
 * import { checkPartitionOptions } from "./src/storage/partitioner.ts";
 * const o = checkPartitionOptions({ objChunkSize: 1024, objChunkNumber: 4 });
 * console.assert(o.chunkNumber === 4 && o.chunkSize === undefined && o.newline === 10);
 * ```
 * @throws {TypeError} for an option of the wrong type.
 * @throws {RangeError} for `objChunkSize`/`objChunkNumber` not an integer > 0,
 *   or an `objNewline` that is not one ASCII character.
 */
export function checkPartitionOptions(options: PartitionOptions = {}): CheckedPartitionOptions {
  if (options === null || typeof options !== "object") throw new TypeError("partition options must be an object");
  const chunkSize = positiveInteger("objChunkSize", options.objChunkSize);
  const chunkNumber = positiveInteger("objChunkNumber", options.objChunkNumber);
  const nl = options.objNewline === undefined ? "\n" : options.objNewline;
  if (nl !== null && typeof nl !== "string") throw new TypeError(`objNewline must be a string or null, got ${typeof nl}`);
  if (nl !== null && (nl.length !== 1 || nl.charCodeAt(0) > 0x7f)) {
    // A line of "\r\n" ends in "\n": the default cuts such files correctly.
    throw new RangeError(`objNewline must be one ASCII character (or null), got ${JSON.stringify(nl)}`);
  }
  return {
    ...(chunkNumber !== undefined ? { chunkNumber } : chunkSize !== undefined ? { chunkSize } : {}),
    newline: nl === null ? null : nl.charCodeAt(0),
    ...(options.s3 !== undefined ? { s3: options.s3 } : {}),
  };
}

interface FoundObject {
  storage: Storage;
  key: string;
  size: number;
}

async function isDirectory(url: string): Promise<boolean> {
  try {
    return (await fsPromises().stat(nodeUrl().fileURLToPath(url))).isDirectory();
  } catch {
    return false; // a missing file is reported by `head`, with its URL
  }
}

async function isPrefix(url: string): Promise<boolean> {
  switch (storageScheme(url)) {
    case "s3": {
      const path = url.slice("s3://".length).split("/").slice(1).join("/");
      return path === "" || path.endsWith("/");
    }
    case "file":
      return url.endsWith("/") || await isDirectory(url);
    default:
      return false;
  }
}

/** The objects one URL names: itself, or every object under a prefix or folder. */
async function* findObjects(url: string, s3: S3Options | undefined): AsyncIterable<FoundObject> {
  const { storage, key } = locateObject(url, { s3 });
  if (!(await isPrefix(url))) {
    yield { storage, key, size: (await storage.head(key)).size };
    return;
  }
  // A file: URL locates to its parent folder, so list below the folder's name.
  const prefix = storageScheme(url) === "file" ? `${key.replace(/\/$/, "")}/` : key;
  let found = false;
  for await (const entry of storage.list(prefix)) {
    found = true;
    yield { storage, key: entry.key, size: entry.size };
  }
  if (!found) throw new ObjectNotFoundError(url, `no objects under ${url}`);
}

/** Just after the first `newline` at index `target - 1` or later, or `size` if there is none. */
async function cutAfterNewline(storage: Storage, key: string, size: number, target: number, newline: number): Promise<number> {
  let from = target - 1;
  let window = FIRST_WINDOW;
  while (from < size) {
    const bytes = await storage.get(key, { start: from, end: Math.min(size, from + window) });
    if (bytes.length === 0) break; // the object shrank under us
    const i = findByte(bytes, newline, 0, bytes.length);
    if (i >= 0) return from + i + 1;
    from += bytes.length;
    window = Math.min(MAX_WINDOW, window * 2);
  }
  return size;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The boundaries `[0, c1, …, size]` of one object's partitions (an empty object has one empty partition). */
async function boundaries(obj: FoundObject, o: CheckedPartitionOptions): Promise<number[]> {
  const { size } = obj;
  const chunk = o.chunkNumber !== undefined ? Math.ceil(size / o.chunkNumber) : o.chunkSize ?? size;
  const nominal: number[] = [];
  for (let t = chunk; t < size; t += chunk) nominal.push(t);
  const newline = o.newline;
  if (newline === null) return [0, ...nominal, size];
  // Each cut moves forward to a newline on its own; a line longer than a
  // chunk makes neighbouring cuts land on the same place, kept once.
  const cuts = await mapLimited(nominal, CUT_CONCURRENCY, (t) => cutAfterNewline(obj.storage, obj.key, size, t, newline));
  const out = [0];
  for (const c of cuts) if (c > out[out.length - 1] && c < size) out.push(c);
  out.push(size);
  return out;
}

/**
 * The partitions of every object `input` names, object by object and in
 * order within each object. With `objNewline` set (the default), every
 * line lands whole in exactly one partition; in every case the partitions
 * of an object cover each of its bytes exactly once. Without
 * `objChunkSize`/`objChunkNumber`, each object is one partition; an empty
 * object is one empty partition.
 *
 * @example
 * ```ts
 * import { objects, partitionObjects, Storage } from "./mod.ts";
 * const store = new Storage();
 * await store.put("doc/part.txt", "alpha\nbeta\ngamma\ndelta\n");
 * const parts = [];
 * for await (const p of partitionObjects(objects(store.objectUrl("doc/part.txt")), { objChunkNumber: 2 })) parts.push(await p.text());
 * console.assert(parts.join("|") === "alpha\nbeta\ngamma\n|delta\n");
 * ```
 * @throws {TypeError} (at the call) if `input` is not from `objects(...)`, or as {@link checkPartitionOptions}.
 * @throws {ObjectNotFoundError} (while iterating) for a missing object, folder, bucket, or an empty prefix.
 */
export function partitionObjects(input: ObjectsInput, options: PartitionOptions = {}): AsyncIterable<DataPartition> {
  if (!isObjectsInput(input)) throw new TypeError("partitionObjects: input must come from objects(...urls)");
  const o = checkPartitionOptions(options);
  return (async function* () {
    for (const url of input.urls) {
      for await (const obj of findObjects(url, o.s3)) {
        const bounds = await boundaries(obj, o);
        const objectUrl = obj.storage.objectUrl(obj.key);
        const totalParts = bounds.length - 1;
        for (let part = 0; part < totalParts; part++) {
          yield new DataPartition({ url: objectUrl, part, totalParts, start: bounds[part], end: bounds[part + 1] }, { s3: o.s3 });
        }
      }
    }
  })();
}
