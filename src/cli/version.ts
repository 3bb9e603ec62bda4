/**
 * skypool's version, read from the `package.json` beside the sources (the
 * development tree, the npm package and every build have one there).
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** How long fetching the version of a module run from a web URL may take. */
const FETCH_TIMEOUT_MS = 5_000;

/**
 * The `version` field of skypool's `package.json`, or `"unknown"` when it
 * cannot be read (a copy without one).
 *
 * @example
 * ```ts
 * import { packageVersion } from "./src/cli/version.ts";
 * console.assert(/^\d+\.\d+\.\d+/.test(await packageVersion()));
 * ```
 */
export async function packageVersion(): Promise<string> {
  const url = new URL("../../package.json", import.meta.url);
  try {
    const text = url.protocol === "file:"
      ? await readFile(fileURLToPath(url), "utf8")
      : await (await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })).text();
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}
