/**
 * What this process reads of its runtime on the way to starting a worker:
 * environment variables, its pid, executable and working directory, a
 * file's text, the CPUs it may use, a file URL's path. Under Deno these use
 * `Deno.*`: there, the first read of the `process` global starts Deno's
 * Node-compatibility layer (~30 ms of synchronous work on the 2-core CI
 * machine, more with `node:fs` and `node:net` after it), which `new Pool()`
 * would otherwise pay before its first worker is even spawned. Under Node
 * they are the usual `process` and `node:` calls.
 *
 * @module
 */
import { fs, nodeOs, nodeUrl } from "./builtins.ts";

// deno-lint-ignore no-explicit-any
declare const Deno: any;

const onDeno = typeof Deno !== "undefined";

/**
 * An environment variable, or `undefined` when it is unset or empty, or
 * when this process may not read the environment (Deno without
 * `--allow-env`).
 *
 * @example
 * ```ts
 * import { envVar } from "./src/runtime/host.ts";
 * console.assert(envVar("SKYPOOL_SURELY_UNSET_VARIABLE") === undefined);
 * ```
 */
export function envVar(name: string): string | undefined {
  try {
    const v = onDeno ? Deno.env.get(name) : process.env[name];
    return v === undefined || v === "" ? undefined : v;
  } catch {
    return undefined;
  }
}

/** The whole environment, as a new object. @throws when Deno may not read the environment. */
export function envSnapshot(): Record<string, string> {
  if (onDeno) return Deno.env.toObject();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return out;
}

/** This process's id. */
export function pid(): number {
  return onDeno ? Deno.pid : process.pid;
}

/** The runtime's own executable (`node` or `deno`). */
export function execPath(): string {
  return onDeno ? Deno.execPath() : process.execPath;
}

/** The working directory. */
export function cwd(): string {
  return onDeno ? Deno.cwd() : process.cwd();
}

/** The number of CPUs this process may use (its affinity mask, where the runtime reads it). */
export function cpuCount(): number {
  if (onDeno) return Math.max(1, navigator.hardwareConcurrency || 1);
  try {
    return nodeOs().availableParallelism();
  } catch {
    return Math.max(1, nodeOs().cpus().length);
  }
}

/**
 * The text of a file, or `undefined` when there is none at `path` or it may
 * not be read (Deno without `--allow-read`).
 *
 * @throws what reading an existing, readable file throws (it is a folder, say).
 */
export function readTextIfPresent(path: string): string | undefined {
  if (onDeno) {
    try {
      return Deno.readTextFileSync(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) return undefined;
      throw err;
    }
  }
  let exists = false;
  try {
    exists = fs().existsSync(path);
  } catch {
    return undefined;
  }
  return exists ? fs().readFileSync(path, "utf8") : undefined;
}

/** The folder for temporary files: `TMPDIR` (or `TMP`, `TEMP`), else `/tmp`, as Node's `os.tmpdir()` finds it. */
export function tempDir(): string {
  if (!onDeno) return nodeOs().tmpdir();
  const t = envVar("TMPDIR") ?? envVar("TMP") ?? envVar("TEMP") ?? "/tmp";
  return t.length > 1 && t.endsWith("/") ? t.slice(0, -1) : t;
}

/** Makes the folder `path`, readable by this user only. @throws when it exists or cannot be made. */
export function makePrivateDir(path: string): void {
  if (onDeno) Deno.mkdirSync(path, { mode: 0o700 });
  else fs().mkdirSync(path, { mode: 0o700 });
}

/** Makes a new folder in `parent`, named `prefix` and random characters, readable by this user only; returns its path. */
export function makeTempDir(parent: string, prefix: string): string {
  if (onDeno) return Deno.makeTempDirSync({ dir: parent, prefix });
  return fs().mkdtempSync(`${parent}/${prefix}`);
}

/**
 * The path of a `file:` URL (percent-escapes decoded).
 *
 * @throws {TypeError} when `url` is not a `file:` URL or names a host.
 */
export function filePath(url: URL): string {
  if (!onDeno) return nodeUrl().fileURLToPath(url);
  if (url.protocol !== "file:") throw new TypeError(`not a file: URL: ${url.href}`);
  if (url.hostname !== "" && url.hostname !== "localhost") throw new TypeError(`a file: URL with a host cannot be a local path: ${url.href}`);
  if (/%2f/i.test(url.pathname)) throw new TypeError(`a file: URL path cannot hold an escaped "/": ${url.href}`);
  return decodeURIComponent(url.pathname);
}
