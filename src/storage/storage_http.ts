/**
 * The read-only `http(s):` storage backend: `fetch` with Range requests.
 *
 * @module
 */
import type { ListEntry, ObjectInfo, StorageBackend } from "./storage_backend.ts";
import { ObjectNotFoundError } from "./storage_errors.ts";
import { SkypoolError } from "../errors.ts";

function readOnly(op: string, url: string): TypeError {
  return new TypeError(`http(s) storage is read-only and cannot ${op} (${url})`);
}

/** Resources under a base URL; the key `""` is the base URL itself. */
export class HttpBackend implements StorageBackend {
  readonly #base: string;

  /** @param base an `http:` or `https:` URL. */
  constructor(base: string) {
    this.#base = base;
  }

  objectUrl(key: string): string {
    if (key === "") return this.#base;
    return new URL(key, this.#base.endsWith("/") ? this.#base : `${this.#base}/`).href;
  }

  async #fetch(key: string, init: RequestInit): Promise<Response> {
    const url = this.objectUrl(key);
    const res = await fetch(url, init);
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      throw new ObjectNotFoundError(url, `no object at ${url} (HTTP ${res.status})`);
    }
    return res;
  }

  put(): Promise<void> {
    return Promise.reject(readOnly("put", this.#base));
  }

  async get(key: string, start: number, end: number | undefined): Promise<Uint8Array> {
    if (end !== undefined && end <= start) {
      await this.head(key); // still report a missing object
      return new Uint8Array(0);
    }
    const res = await this.#fetch(key, { headers: { Range: `bytes=${start}-${end === undefined ? "" : end - 1}` } });
    if (res.status === 416) {
      await res.body?.cancel();
      return new Uint8Array(0);
    }
    if (res.status === 206) return new Uint8Array(await res.arrayBuffer());
    if (res.status === 200) {
      // The server ignored the range and sent everything: keep the part asked for.
      const all = new Uint8Array(await res.arrayBuffer());
      return all.subarray(start, end ?? all.length);
    }
    await res.body?.cancel();
    throw new SkypoolError(`GET ${this.objectUrl(key)} failed: HTTP ${res.status} ${res.statusText}`);
  }

  async head(key: string): Promise<ObjectInfo> {
    const res = await this.#fetch(key, { method: "HEAD" });
    await res.body?.cancel();
    if (!res.ok) throw new SkypoolError(`HEAD ${this.objectUrl(key)} failed: HTTP ${res.status} ${res.statusText}`);
    const length = res.headers.get("content-length");
    const size = length === null ? NaN : Number(length);
    if (!Number.isSafeInteger(size)) {
      throw new SkypoolError(`HEAD ${this.objectUrl(key)} gave no usable Content-Length (${String(length)}); cannot partition it`);
    }
    return { size, etag: res.headers.get("etag") ?? "" };
  }

  // deno-lint-ignore require-yield
  async *list(prefix: string): AsyncIterable<ListEntry> {
    throw new TypeError(`http(s) storage cannot list objects (${this.objectUrl(prefix)}): name each URL`);
  }

  delete(): Promise<void> {
    return Promise.reject(readOnly("delete", this.#base));
  }
}
