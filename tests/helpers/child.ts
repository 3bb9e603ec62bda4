/**
 * Test helper: runs `tests/helpers/state_child.ts` (or its compiled `.js`)
 * in a child process of the same runtime (Deno or Node), with a scenario
 * name and a JSON payload, and collects its stdout lines.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { authkeyEnvironment } from "../../src/task/authkey.ts";

/** A running child scenario. */
export interface Child {
  readonly proc: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with the first line (past or future) matching; rejects after `timeoutMs` or on exit. */
  waitForLine(match: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal name) once the child is gone. */
  exited: Promise<number | string>;
  /** Everything the child wrote to stderr. */
  stderr(): string;
  /** SIGKILLs the child if it still runs and waits for it. */
  kill(): Promise<void>;
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** Children still running: a test that fails before it ends its child leaves it here. */
const live = new Set<Child>();
let hook = false;

/**
 * SIGKILLs every child still running and waits for them: a test file's
 * `after` hook (tearDownRedis does it), so that a test that failed before
 * ending its child does not leave it behind. The test runner's exit kills
 * them too.
 */
export async function killChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
}

/** Starts a child running `scenario` with `payload` (JSON), in `helper` (a script of this folder, by default `state_child`). */
export function runChild(scenario: string, payload: unknown, env: Record<string, string> = {}, helper = "state_child"): Child {
  const script = fileURLToPath(new URL(`./${helper}${ext}`, import.meta.url));
  const exe = isDeno ? (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath() : process.execPath;
  const args = isDeno ? ["run", "-A", "--no-check", script] : [script];
  const proc = spawn(exe, [...args, scenario, JSON.stringify(payload)], {
    env: { ...process.env, ...authkeyEnvironment(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let err = "";
  let partial = "";
  const waiters: Array<() => void> = [];
  proc.stdout!.setEncoding("utf8");
  proc.stdout!.on("data", (d: string) => {
    partial += d;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.setEncoding("utf8");
  proc.stderr!.on("data", (d: string) => (err += d));
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => {
      done = true;
      live.delete(child);
      for (const w of waiters.splice(0)) w();
      resolve(code ?? signal ?? -1);
    });
  });
  const child: Child = {
    proc,
    lines,
    exited,
    stderr: () => err,
    waitForLine(match, timeoutMs = 30_000) {
      const test = (l: string) => typeof match === "string" ? l === match : match.test(l);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child ${scenario}: no line ${match} within ${timeoutMs} ms; stdout=${JSON.stringify(lines)} stderr=${err}`)), timeoutMs);
        const check = () => {
          const found = lines.find(test);
          if (found !== undefined) {
            clearTimeout(timer);
            return resolve(found);
          }
          if (done) {
            clearTimeout(timer);
            return reject(new Error(`child ${scenario} exited without line ${match}; stdout=${JSON.stringify(lines)} stderr=${err}`));
          }
          waiters.push(check);
        };
        check();
      });
    },
    async kill() {
      if (!done) proc.kill("SIGKILL");
      await exited;
    },
  };
  live.add(child);
  if (!hook) {
    hook = true;
    process.on("exit", () => {
      for (const c of live) c.proc.kill("SIGKILL");
    });
  }
  return child;
}
