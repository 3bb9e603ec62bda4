/**
 * Test helper: runs the `skypool` command as a child process of the same
 * runtime: the compiled `cli.js` under Node, `deno run -A cli.ts` under Deno.
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** How a run of the command ended. */
export interface CliRun {
  /** The exit status. */
  status: number | null;
  stdout: string;
  stderr: string;
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const script = fileURLToPath(new URL(`../../cli${ext}`, import.meta.url));
/** Where the command runs (the repository, or the build holding the compiled one). */
export const cliRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A bound on one run: a command that hangs fails the test instead of the suite. */
const RUN_TIMEOUT_MS = 60_000;

/** Variables of the test's own environment that would change what the command does. */
const SCRUBBED = /^(SKYPOOL_|DEBUG$)/;

/** Runs `skypool ...args` with `env` on top of the test's environment (without its SKYPOOL_* variables). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const exe = isDeno ? (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath() : process.execPath;
  const pre = isDeno ? ["run", "-A", "--no-check", script] : [script];
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.test(k))) as Record<string, string>;
  const child = spawn(exe, [...pre, ...args], { env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`skypool ${args.join(" ")} did not exit within ${RUN_TIMEOUT_MS} ms; stdout=${stdout} stderr=${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
