/**
 * How to start a worker process of the runtime we are running in: `node`
 * running the compiled `subprocess_main.js`, or `deno run` on
 * `subprocess_main.ts` with this process's permissions (see
 * `deno_permissions.ts`). Both are found relative to this file, and both
 * runtimes start a child with `node:child_process` and `process.execPath`.
 *
 * @module
 */
import { fs, nodeUrl } from "./builtins.ts";
import { workerPermissionFlags, type WorkerNeeds } from "./deno_permissions.ts";

declare const Deno: unknown;

/** True when this code runs under Deno. */
export const isDeno: boolean = typeof Deno !== "undefined";

let entry: URL | undefined;

/**
 * The worker entry next to this module: `subprocess_main.ts` in the
 * sources; in the npm build, `subprocess_bundle.js`, the same entry with the
 * modules it loads bundled into one file by `npm/build.mjs` (or
 * `subprocess_main.js`, where a build made none).
 */
export function workerEntryUrl(): URL {
  if (entry !== undefined) return entry;
  if (import.meta.url.endsWith(".ts")) return entry = new URL("../worker/subprocess_main.ts", import.meta.url);
  const bundle = new URL("../worker/subprocess_bundle.js", import.meta.url);
  const found = bundle.protocol === "file:" && fs().existsSync(nodeUrl().fileURLToPath(bundle));
  return entry = found ? bundle : new URL("../worker/subprocess_main.js", import.meta.url);
}

/**
 * The executable and arguments that start a worker given `workerArgs`.
 * Under Deno, `needs` are the resources the worker needs beyond skypool's
 * own modules, granted when this process holds them (see
 * `workerPermissionFlags`).
 */
export function workerCommand(workerArgs: readonly string[], needs: WorkerNeeds = {}): { file: string; args: string[] } {
  const entry = workerEntryUrl();
  const script = entry.protocol === "file:" ? nodeUrl().fileURLToPath(entry) : entry.href;
  if (isDeno) {
    // The worker imports some of skypool's modules on first use (handle kinds).
    const sources = entry.protocol === "file:" ? [nodeUrl().fileURLToPath(new URL("..", entry))] : [];
    const flags = workerPermissionFlags({ ...needs, read: [...sources, ...(needs.read ?? [])] });
    return { file: process.execPath, args: ["run", ...flags, "--quiet", script, ...workerArgs] };
  }
  return { file: process.execPath, args: [script, ...workerArgs] };
}
