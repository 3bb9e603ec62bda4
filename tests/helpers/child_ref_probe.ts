/**
 * Child-process side of the child ref test: starts `/bin/sleep` with
 * `spawnChild`, unref'd when `CHILD_REF_MODE=unref` (for 30 s) or left
 * ref'd (for 0.3 s), prints its pid and returns: the program ends when its
 * event loop lets it.
 *
 * @module
 */
import { spawnChild } from "../../src/runtime/child.ts";

const unref = (globalThis as { Deno?: { env: { get(k: string): string | undefined } } }).Deno?.env.get("CHILD_REF_MODE") === "unref" ||
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.CHILD_REF_MODE === "unref";
const child = spawnChild("/bin/sleep", [unref ? "30" : "0.3"], { PATH: "/usr/bin:/bin" }, () => {});
if (unref) child.unref();
console.log(child.pid);
