/**
 * `DataPartition`: one byte range of one object, handed to a call of the
 * futures API. It travels through the codec as a small record (URL, range,
 * storage settings) and reads its bytes only when asked, from wherever it is.
 *
 * @module
 */
import { registerHandle } from "../task/codec.ts";
import { config } from "../config.ts";
import { locateObject, storageScheme } from "./storage.ts";
import type { S3Options } from "./s3_options.ts";

/** Bytes read per storage request by {@link DataPartition.stream}. */
const STREAM_PIECE = 1 << 20;

/** Where a partition lies. */
export interface PartitionRange {
  /** The object's URL (`file:`, `s3://`, `http(s)://`). */
  url: string;
  /** Index of this partition among the object's partitions, from 0. */
  part: number;
  /** How many partitions the object was cut into. */
  totalParts: number;
  /** First byte. */
  start: number;
  /** One past the last byte. */
  end: number;
}

function checkIndex(name: string, v: unknown, min: number): number {
  if (typeof v !== "number") throw new TypeError(`DataPartition: ${name} must be a number, got ${typeof v}`);
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`DataPartition: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

// Credentials stay with each process's own configuration; the rest of the
// S3 settings (endpoint, path style…) travel so a worker reads the same server.
function shippable(s3: S3Options | undefined): S3Options | undefined {
  if (s3 === undefined) return undefined;
  const { credentials: _, ...rest } = s3;
  return rest;
}

/**
 * The byte range `[start, end)` of one object. Reading methods fetch only
 * that range (`stream` in 1 MiB requests); with newline-aligned
 * partitioning it holds whole lines.
 *
 * @example
 * ```ts
 * import { DataPartition, Storage } from "./mod.ts";
 * const store = new Storage();
 * await store.put("doc/lines.txt", "one\ntwo\nthree\n");
 * const p = new DataPartition({ url: store.objectUrl("doc/lines.txt"), part: 1, totalParts: 2, start: 4, end: 14 });
 * console.assert(await p.text() === "two\nthree\n");
 * const lines: string[] = [];
 * for await (const line of p.lines()) lines.push(line);
 * console.assert(lines.join() === "two,three");
 * ```
 */
export class DataPartition implements PartitionRange {
  readonly url: string;
  readonly part: number;
  readonly totalParts: number;
  readonly start: number;
  readonly end: number;
  readonly #s3: S3Options | undefined;

  /**
   * A handle on the byte range `range` of one object; nothing is read until a method is called.
   * @param range where the partition lies.
   * @param options the S3 client settings to read with (default: config `storage.s3`).
   * @throws {TypeError|RangeError} for an unsupported URL or a bad index or range.
   */
  constructor(range: PartitionRange, options: { s3?: S3Options } = {}) {
    if (range === null || typeof range !== "object") throw new TypeError("DataPartition: range must be an object");
    if (typeof range.url !== "string" || storageScheme(range.url) === undefined) {
      throw new TypeError(`DataPartition: url must be a file:, s3:// or http(s):// URL, got ${JSON.stringify(range.url)}`);
    }
    this.url = range.url;
    this.totalParts = checkIndex("totalParts", range.totalParts, 1);
    this.part = checkIndex("part", range.part, 0);
    if (this.part >= this.totalParts) throw new RangeError(`DataPartition: part (${this.part}) must be below totalParts (${this.totalParts})`);
    this.start = checkIndex("start", range.start, 0);
    this.end = checkIndex("end", range.end, this.start);
    this.#s3 = options.s3;
  }

  /** Its length in bytes. */
  get size(): number {
    return this.end - this.start;
  }

  #read(start: number, end: number) {
    const s3 = this.#s3 === undefined ? undefined : { ...config.get().storage.s3, ...this.#s3 };
    const { storage, key } = locateObject(this.url, { s3 });
    return storage.get(key, { start, end });
  }

  /**
   * The partition's bytes.
   * @throws {ObjectNotFoundError} when the object is gone.
   */
  bytes(): Promise<Uint8Array> {
    return this.#read(this.start, this.end);
  }

  /**
   * The partition's bytes decoded as UTF-8 (malformed sequences become U+FFFD).
   * @throws {ObjectNotFoundError} when the object is gone.
   */
  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  /** The partition's bytes, read piece by piece. */
  stream(): ReadableStream<Uint8Array> {
    let at = this.start;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (at >= this.end) {
          controller.close();
          return;
        }
        const stop = Math.min(this.end, at + STREAM_PIECE);
        const piece = await this.#read(at, stop);
        const short = piece.length < stop - at; // the object shrank since it was partitioned
        at = stop;
        if (piece.length > 0) controller.enqueue(piece);
        if (short || at >= this.end) controller.close();
      },
    });
  }

  /**
   * The partition's lines, without their `\n` or `\r\n`; a last line
   * without newline is included as it is, an empty partition has none.
   */
  async *lines(): AsyncIterable<string> {
    const decoder = new TextDecoder();
    let carry = "";
    const reader = this.stream().getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        const chunk = done ? decoder.decode() : decoder.decode(value, { stream: true });
        const text = carry + chunk;
        let from = 0;
        for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
          yield text.slice(from, nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
          from = nl + 1;
        }
        carry = text.slice(from);
        if (done) break;
      }
    } finally {
      reader.releaseLock();
    }
    if (carry !== "") yield carry;
  }

  /** The record the codec ships. */
  static toRecord(p: DataPartition): unknown[] {
    return [p.url, p.part, p.totalParts, p.start, p.end, shippable(p.#s3) ?? null];
  }

  /**
   * Rebuilds a partition from its record; only data is read, never code.
   * @throws {TypeError|RangeError} for a malformed record.
   */
  static fromRecord(record: unknown): DataPartition {
    if (!Array.isArray(record) || record.length !== 6) throw new TypeError("malformed data partition record");
    const [url, part, totalParts, start, end, s3] = record;
    if (s3 !== null && (typeof s3 !== "object" || Array.isArray(s3))) throw new TypeError("malformed data partition record (s3 settings)");
    return new DataPartition({ url, part, totalParts, start, end }, { s3: s3 ?? undefined });
  }
}

registerHandle("storage.partition", DataPartition, DataPartition.toRecord, DataPartition.fromRecord);
