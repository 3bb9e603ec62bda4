/**
 * `Storage`: one API over a local folder (`file:`), an S3 bucket (`s3:`) and
 * read-only web servers (`http(s):`), used for partition sources and for
 * payloads too large for a transport message.
 *
 * @module
 */
import { config } from "../config.ts";
import type { ListEntry, ObjectInfo, StorageBackend } from "./storage_backend.ts";
import { FileBackend } from "./storage_file.ts";
import { HttpBackend } from "./storage_http.ts";
import type { S3Options } from "./s3_options.ts";
import { S3Backend } from "./storage_s3.ts";
import { nodeOs, nodePath, nodeUrl } from "../runtime/builtins.ts";

export type { ListEntry, ObjectInfo } from "./storage_backend.ts";

/** Options of {@link Storage} beyond its URL. */
export interface StorageOptions {
  /** S3 client settings. @default config `storage.s3` */
  s3?: S3Options;
}

/** A byte range of {@link Storage.get}: `[start, end)`. */
export interface ByteRange {
  /** First byte. @default 0 */
  start?: number;
  /** One past the last byte; a value past the size reads to the end. @default the end of the object */
  end?: number;
}

/** Where nothing else is configured: a `skypool` folder in the temp dir. */
export function defaultStorageUrl(): string {
  return nodeUrl().pathToFileURL(nodePath().join(nodeOs().tmpdir(), "skypool")).href;
}

type Scheme = "file" | "s3" | "http";

/** The scheme of a storage URL, or `undefined` for anything else. */
export function storageScheme(url: string): Scheme | undefined {
  if (url.startsWith("file:")) return "file";
  if (url.startsWith("s3://")) return "s3";
  if (url.startsWith("http://") || url.startsWith("https://")) return "http";
  return undefined;
}

function parseS3(url: string): { bucket: string; path: string } {
  const rest = url.slice("s3://".length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (bucket === "") throw new TypeError(`storage URL ${JSON.stringify(url)} names no bucket (expected s3://bucket[/prefix])`);
  return { bucket, path: slash < 0 ? "" : rest.slice(slash + 1) };
}

function makeBackend(url: string, options: StorageOptions): { scheme: Scheme; backend: StorageBackend } {
  const scheme = storageScheme(url);
  switch (scheme) {
    case "file":
      return { scheme, backend: new FileBackend(nodeUrl().fileURLToPath(url)) };
    case "s3": {
      const { bucket, path } = parseS3(url);
      const prefix = path === "" || path.endsWith("/") ? path : `${path}/`;
      return { scheme, backend: new S3Backend(bucket, prefix, options.s3 ?? config.get().storage.s3) };
    }
    case "http":
      return { scheme, backend: new HttpBackend(url) };
    default:
      throw new TypeError(`unsupported storage URL ${JSON.stringify(url)}: expected file://, s3:// or http(s)://`);
  }
}

function checkKey(method: string, key: unknown, scheme: Scheme): string {
  if (typeof key !== "string") throw new TypeError(`Storage.${method}: key must be a string, got ${typeof key}`);
  // The HTTP backend's key "" is its base URL; elsewhere a key names an object.
  if (key === "" && scheme !== "http") throw new RangeError(`Storage.${method}: key must not be empty`);
  if (scheme === "file" && (key.startsWith("/") || key.split("/").some((s) => s === ".." || s === "."))) {
    throw new RangeError(`Storage.${method}: key ${JSON.stringify(key)} must be a relative path without "." or ".." segments`);
  }
  return key;
}

function checkOffset(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number") throw new TypeError(`Storage.get: ${name} must be a number, got ${typeof v}`);
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`Storage.get: ${name} must be an integer >= 0, got ${v}`);
  return v;
}

/**
 * Objects under a storage URL: `file:///dir` (default
 * `file://<tmpdir>/skypool`, or config `storage.url` / `SKYPOOL_STORAGE`),
 * `s3://bucket[/prefix]` (through `@aws-sdk/client-s3`, loaded on first
 * use; endpoint from `AWS_ENDPOINT_URL_S3` or config `storage.s3`), or
 * `http(s)://…` (read-only: `get` with Range requests, and `head`). Keys are
 * relative to the URL.
 *
 * @example
 * ```ts
 * import { Storage } from "./mod.ts";
 * const store = new Storage();
 * await store.put("doc/example.txt", new TextEncoder().encode("hello, world"));
 * const part = await store.get("doc/example.txt", { start: 7, end: 12 });
 * console.assert(new TextDecoder().decode(part) === "world");
 * console.assert((await store.head("doc/example.txt")).size === 12);
 * await store.delete("doc/example.txt");
 * ```
 */
export class Storage {
  /** The storage URL (keys are relative to it). */
  readonly url: string;
  readonly #scheme: Scheme;
  readonly #backend: StorageBackend;

  /**
   * A handle on the storage at `url`; nothing is read or written until a method is called.
   * @param url the storage URL; default config `storage.url`, else `file://<tmpdir>/skypool`.
   * @param options S3 client settings.
   * @throws {TypeError} for a URL that is not a string or has an unsupported scheme, or an `s3://` URL without bucket.
   */
  constructor(url?: string, options: StorageOptions = {}) {
    url ??= config.get().storage.url ?? defaultStorageUrl();
    if (typeof url !== "string") throw new TypeError(`Storage: url must be a string, got ${typeof url}`);
    if (options === null || typeof options !== "object") throw new TypeError("Storage: options must be an object");
    const { scheme, backend } = makeBackend(url, options);
    this.url = url;
    this.#scheme = scheme;
    this.#backend = backend;
  }

  /** The full URL of `key`, e.g. `s3://bucket/prefix/key`. */
  objectUrl(key: string): string {
    return this.#backend.objectUrl(key);
  }

  /**
   * Stores `data` (bytes, or a string stored as UTF-8) under `key`, replacing what was there.
   * @throws {TypeError} for a bad key or data, or on read-only (http) storage.
   * @throws {ObjectNotFoundError} when the S3 bucket does not exist.
   */
  async put(key: string, data: Uint8Array | string): Promise<void> {
    checkKey("put", key, this.#scheme);
    if (typeof data === "string") data = new TextEncoder().encode(data);
    if (!(data instanceof Uint8Array)) throw new TypeError(`Storage.put: data must be a Uint8Array or string, got ${typeof data}`);
    await this.#backend.put(key, data);
  }

  /**
   * The bytes `[start, end)` of `key` (all of it by default).
   * @throws {TypeError|RangeError} for a bad key or range (`end < start`).
   * @throws {ObjectNotFoundError} naming the URL when the object or bucket does not exist.
   */
  async get(key: string, range: ByteRange = {}): Promise<Uint8Array> {
    checkKey("get", key, this.#scheme);
    if (range === null || typeof range !== "object") throw new TypeError("Storage.get: range must be an object");
    const start = checkOffset("start", range.start) ?? 0;
    const end = checkOffset("end", range.end);
    if (end !== undefined && end < start) throw new RangeError(`Storage.get: end (${end}) is before start (${start})`);
    return await this.#backend.get(key, start, end);
  }

  /**
   * The size and ETag of `key`.
   * @throws {ObjectNotFoundError} naming the URL when the object or bucket does not exist.
   */
  async head(key: string): Promise<ObjectInfo> {
    checkKey("head", key, this.#scheme);
    return await this.#backend.head(key);
  }

  /**
   * Every object whose key starts with `prefix` (default: all), in key
   * order; S3 listings are followed past their 1000-key pages.
   * @throws {TypeError} on http(s) storage, which cannot list.
   * @throws {ObjectNotFoundError} when the S3 bucket does not exist.
   */
  list(prefix = ""): AsyncIterable<ListEntry> {
    if (typeof prefix !== "string") throw new TypeError(`Storage.list: prefix must be a string, got ${typeof prefix}`);
    return this.#backend.list(prefix);
  }

  /**
   * Deletes the given keys; a key that does not exist is not an error.
   * @throws {TypeError} for a bad key, or on read-only (http) storage.
   */
  async delete(...keys: string[]): Promise<void> {
    for (const k of keys) checkKey("delete", k, this.#scheme);
    if (keys.length > 0) await this.#backend.delete(keys);
  }

  /** Closes the S3 client's connections (a later call opens new ones); nothing to do for file and http. */
  async close(): Promise<void> {
    await this.#backend.close?.();
  }

  /** `await using store = new Storage(...)` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Where one object lives: the storage holding it and its key there. */
export interface ObjectLocation {
  storage: Storage;
  key: string;
}

const cache = new Map<string, Storage>();
/** Storages kept by {@link locateObject}; every http(s) URL is a root of its own, so the oldest are dropped. */
const MAX_CACHED = 256;

/**
 * The storage and key of one object URL (`file:` URL, `s3://bucket/key` or
 * `http(s)://…`). Storages are shared per root and options, so the
 * partitions of a worker reuse one S3 client.
 *
 * @throws {TypeError} for an unsupported URL.
 */
export function locateObject(url: string, options: StorageOptions = {}): ObjectLocation {
  let root: string;
  let key: string;
  switch (storageScheme(url)) {
    case "file": {
      const path = nodeUrl().fileURLToPath(url);
      root = nodeUrl().pathToFileURL(nodePath().dirname(path)).href;
      key = nodePath().basename(path);
      break;
    }
    case "s3": {
      const { bucket, path } = parseS3(url);
      root = `s3://${bucket}`;
      key = path;
      break;
    }
    case "http":
      root = url;
      key = "";
      break;
    default:
      throw new TypeError(`unsupported object URL ${JSON.stringify(url)}: expected file:, s3:// or http(s)://`);
  }
  const s3 = options.s3 ?? config.get().storage.s3;
  const id = `${root}\n${JSON.stringify(s3)}`;
  let storage = cache.get(id);
  if (storage === undefined) {
    storage = new Storage(root, { s3 });
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(id, storage);
  }
  return { storage, key };
}
