/**
 * How to start a worker process of the runtime we are running in: `node`
 * running the compiled `subprocess_main.js`, or `deno run` on
 * `subprocess_main.ts` with this process's permissions (see
 * `deno_permissions.ts`). Both are found relative to this file, and both
 * runtimes start a child with `node:child_process` and `process.execPath`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { workerPermissionFlags, type WorkerNeeds } from "./deno_permissions.ts";

declare const Deno: unknown;

/** True when this code runs under Deno. */
export const isDeno: boolean = typeof Deno !== "undefined";

/** The worker entry next to this module, with this module's own extension (.ts or .js). */
export function workerEntryUrl(): URL {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`../worker/subprocess_main${ext}`, import.meta.url);
}

/**
 * The executable and arguments that start a worker given `workerArgs`.
 * Under Deno, `needs` are the resources the worker needs beyond skypool's
 * own modules, granted when this process holds them (see
 * `workerPermissionFlags`).
 */
export function workerCommand(workerArgs: readonly string[], needs: WorkerNeeds = {}): { file: string; args: string[] } {
  const entry = workerEntryUrl();
  const script = entry.protocol === "file:" ? fileURLToPath(entry) : entry.href;
  if (isDeno) {
    // The worker imports some of skypool's modules on first use (handle kinds).
    const sources = entry.protocol === "file:" ? [fileURLToPath(new URL("..", entry))] : [];
    const flags = workerPermissionFlags({ ...needs, read: [...sources, ...(needs.read ?? [])] });
    return { file: process.execPath, args: ["run", ...flags, "--quiet", script, ...workerArgs] };
  }
  return { file: process.execPath, args: [script, ...workerArgs] };
}
