/**
 * What every storage backend (file, S3, HTTP) provides to `Storage`, which
 * checks the arguments before any backend sees them.
 *
 * @module
 */

/** An object's size and version tag. */
export interface ObjectInfo {
  /** Size in bytes. */
  size: number;
  /** A tag that changes when the content changes (S3/HTTP ETag; for files, mtime and size). */
  etag: string;
}

/** One entry of a listing. */
export interface ListEntry {
  /** The key, relative to the storage's root. */
  key: string;
  /** Size in bytes. */
  size: number;
}

/** One backend: keys are relative to its root and already validated. */
export interface StorageBackend {
  /** The full URL of `key` (for messages and partitions). */
  objectUrl(key: string): string;
  put(key: string, data: Uint8Array): Promise<void>;
  /** Bytes `[start, end)`; `end` undefined reads to the end; an `end` past the size stops at it. */
  get(key: string, start: number, end: number | undefined): Promise<Uint8Array>;
  head(key: string): Promise<ObjectInfo>;
  list(prefix: string): AsyncIterable<ListEntry>;
  delete(keys: string[]): Promise<void>;
  /** Releases connections, if the backend keeps any. */
  close?(): Promise<void>;
}
