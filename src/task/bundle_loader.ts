/**
 * The worker side of module bundling: imports a bundle made by
 * `bundle.ts` from a file named by its hash, in a folder where the bare
 * imports of its external packages resolve (the worker's `node_modules`).
 *
 * @module
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { SerializationError } from "../errors.ts";

/** Options of {@link importBundle}. */
export interface ImportBundleOptions {
  /**
   * The folder bundles are written to. @default
   * `<cwd>/node_modules/.cache/skypool/bundles` when `<cwd>/node_modules`
   * exists (so external packages resolve from it), else a folder in the
   * system temp dir
   */
  dir?: string;
}

type Module = Record<string, unknown>;

const HASH = /^[0-9a-f]{64}$/;

/** Bundles imported by this process, per hash (a module is imported once). */
const loaded = new Map<string, Promise<Module>>();

function sha256(code: string): string {
  return createHash("sha256").update(code).digest("hex");
}

/** Where bundles go when no folder is given. */
export function defaultBundleDir(): string {
  const modules = join(process.cwd(), "node_modules");
  return existsSync(modules) ? join(modules, ".cache", "skypool", "bundles") : join(tmpdir(), "skypool-bundles");
}

/** Writes `code` to `<dir>/<hash>.mjs` unless it is there: through a fresh name and a rename, so a reader never sees half a file. */
async function writeOnce(dir: string, hash: string, code: string): Promise<string> {
  const file = join(dir, `${hash}.mjs`);
  try {
    // Already written (by this worker earlier, or another on this machine):
    // used only when it holds what its name says.
    if (sha256(await readFile(file, "utf8")) === hash) return file;
  } catch {
    // Not written yet.
  }
  await mkdir(dir, { recursive: true });
  const part = join(dir, `.${hash}.${randomUUID()}.part`);
  try {
    await writeFile(part, code);
    await rename(part, file);
  } finally {
    await rm(part, { force: true });
  }
  return file;
}

/** The package a "cannot find" error names, if the error is one. */
function missingPackage(err: unknown): string | undefined {
  const message = String((err as Error)?.message ?? "");
  const code = (err as { code?: string })?.code;
  // Node: ERR_MODULE_NOT_FOUND "Cannot find package 'x'"; Deno: 'Import "x" not a dependency', 'Relative import path "x" not prefixed…'.
  if (code !== "ERR_MODULE_NOT_FOUND" && !/Cannot find|not a dependency|Relative import path/i.test(message)) return undefined;
  return /(?:package|module|import|import path)\s+['"]([^'"]+)['"]/i.exec(message)?.[1];
}

async function load(hash: string, code: string, dir: string): Promise<Module> {
  let file: string;
  try {
    file = await writeOnce(dir, hash, code);
  } catch (err) {
    throw new SerializationError(`cannot write bundle ${hash} to ${dir}: ${(err as Error)?.message ?? err}`, { cause: err });
  }
  try {
    return await import(pathToFileURL(file).href) as Module;
  } catch (err) {
    const pkg = missingPackage(err);
    if (pkg !== undefined) {
      throw new SerializationError(
        `bundle ${hash} imports ${JSON.stringify(pkg)}, which does not resolve on this worker (from ${dir}): ` +
          `install the external package where the worker runs (its working directory's node_modules)`,
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * Imports a bundle made by `bundleModule` and returns its exports: checks
 * that `code` hashes to `hash` (it refuses otherwise), writes it once to
 * `<hash>.mjs` in the bundle folder (see {@link ImportBundleOptions.dir}),
 * and imports it; later calls with the same hash share the import.
 *
 * @example
 * ```ts
 * import { createHash } from "node:crypto";
 * import { importBundle } from "./src/task/bundle_loader.ts";
 * const code = "export const twice = (x) => 2 * x;";
 * const hash = createHash("sha256").update(code).digest("hex");
 * const mod = await importBundle(hash, code);
 * console.assert((mod.twice as (x: number) => number)(21) === 42);
 * ```
 * @throws {TypeError} (rejects) for a hash that is not 64 hex digits, or code that is not a string.
 * @throws {SerializationError} (rejects) when `code` does not match `hash`
 *   (nothing is written or run), when the bundle cannot be written, or when
 *   an external package it imports does not resolve on this worker.
 *   Whatever evaluating the module throws is passed on.
 */
export function importBundle(hash: string, code: string, options: ImportBundleOptions = {}): Promise<Module> {
  if (typeof hash !== "string" || !HASH.test(hash)) {
    return Promise.reject(new TypeError(`importBundle: hash must be 64 lowercase hex digits (a SHA-256), got ${JSON.stringify(hash)}`));
  }
  if (typeof code !== "string") return Promise.reject(new TypeError(`importBundle: code must be a string, got ${typeof code}`));
  const known = loaded.get(hash);
  if (known !== undefined) return known;
  if (sha256(code) !== hash) {
    return Promise.reject(new SerializationError(`bundle refused: its code does not match its hash ${hash} (altered or corrupted on the way)`));
  }
  const p = load(hash, code, options.dir ?? defaultBundleDir());
  loaded.set(hash, p);
  // A failed import may succeed later (a package installed meanwhile).
  p.catch(() => {
    if (loaded.get(hash) === p) loaded.delete(hash);
  });
  return p;
}

/**
 * The exports of a bundle this process has already imported (or is
 * importing) with {@link importBundle}, or `undefined`: a worker answers
 * that it needs the bundle's code.
 *
 * @example
 * ```ts
 * import { loadedBundle } from "./src/task/bundle_loader.ts";
 * console.assert(loadedBundle("0".repeat(64)) === undefined);
 * ```
 */
export function loadedBundle(hash: string): Promise<Module> | undefined {
  return loaded.get(hash);
}
