// Runs one of the probe scripts in tests/helpers/ in a fresh process of the
// runtime running the tests (Node: the compiled probe; Deno: `deno run` of
// its source), so that a test can see what a first import loads.
import { execFile } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** Runs `tests/helpers/<name>` with `env` (default: this process's) and resolves with its output; rejects on a non-zero exit. */
export function runProbe(name: string, env?: Record<string, string | undefined>): Promise<{ stdout: string; stderr: string }> {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const probe = fileURLToPath(new URL(`./${name}${ext}`, import.meta.url));
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [cmd, args] = deno ? [deno.execPath(), ["run", "-A", "--no-check", probe]] : [process.execPath, [probe]];
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000, env: (env ?? process.env) as NodeJS.ProcessEnv }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr }));
  });
}
