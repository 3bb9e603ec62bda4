/**
 * The `file:` storage backend: keys are paths under a root directory.
 *
 * @module
 */
import { fsPromises, nodePath, nodeUrl } from "../runtime/builtins.ts";
import type { ListEntry, ObjectInfo, StorageBackend } from "./storage_backend.ts";
import { ObjectNotFoundError } from "./storage_errors.ts";

let tmpCounter = 0;
/** Names of objects being written (see `put`); listings skip them. */
const TMP_NAME = /\.skypool-tmp-\d+-\d+$/;

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Files under one directory; a key is a `/`-separated path below it. */
export class FileBackend implements StorageBackend {
  readonly #root: string;

  /** @param root an absolute directory path (created on the first `put`). */
  constructor(root: string) {
    this.#root = root;
  }

  objectUrl(key: string): string {
    return nodeUrl().pathToFileURL(this.#path(key)).href;
  }

  #path(key: string): string {
    return key === "" ? this.#root : nodePath().join(this.#root, ...key.split("/"));
  }

  #missing(key: string, err: unknown): ObjectNotFoundError {
    return new ObjectNotFoundError(this.objectUrl(key), `no file at ${this.objectUrl(key)}`, { cause: err });
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const path = this.#path(key);
    await fsPromises().mkdir(nodePath().dirname(path), { recursive: true });
    // Written aside and renamed, so a reader never sees half an object.
    const tmp = `${path}.skypool-tmp-${process.pid}-${++tmpCounter}`;
    await fsPromises().writeFile(tmp, data);
    await fsPromises().rename(tmp, path);
  }

  async get(key: string, start: number, end: number | undefined): Promise<Uint8Array> {
    let fh;
    try {
      fh = await fsPromises().open(this.#path(key), "r");
    } catch (err) {
      throw isNotFound(err) ? this.#missing(key, err) : err;
    }
    try {
      const stop = Math.min(end ?? Infinity, (await fh.stat()).size);
      const out = new Uint8Array(Math.max(0, stop - start));
      let filled = 0;
      while (filled < out.length) {
        const { bytesRead } = await fh.read(out, filled, out.length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === out.length ? out : out.subarray(0, filled);
    } finally {
      await fh.close();
    }
  }

  async head(key: string): Promise<ObjectInfo> {
    let st;
    try {
      st = await fsPromises().stat(this.#path(key));
    } catch (err) {
      throw isNotFound(err) ? this.#missing(key, err) : err;
    }
    if (!st.isFile()) throw this.#missing(key, undefined);
    return { size: st.size, etag: `${Math.trunc(st.mtimeMs).toString(16)}-${st.size.toString(16)}` };
  }

  async *list(prefix: string): AsyncIterable<ListEntry> {
    // Start at the deepest directory the prefix names, not at the root.
    const cut = prefix.lastIndexOf("/");
    const dirKey = cut < 0 ? "" : prefix.slice(0, cut);
    const entries: ListEntry[] = [];
    await this.#walk(dirKey, prefix, entries);
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* entries;
  }

  async #walk(dirKey: string, prefix: string, out: ListEntry[]): Promise<void> {
    let names;
    try {
      names = await fsPromises().readdir(this.#path(dirKey), { withFileTypes: true });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const d of names) {
      const key = dirKey === "" ? d.name : `${dirKey}/${d.name}`;
      if (d.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await this.#walk(key, prefix, out);
      } else if (d.isFile() && key.startsWith(prefix) && !TMP_NAME.test(key)) {
        out.push({ key, size: (await fsPromises().stat(this.#path(key))).size });
      }
    }
  }

  async delete(keys: string[]): Promise<void> {
    await Promise.all(keys.map((k) => fsPromises().rm(this.#path(k), { force: true })));
  }
}
