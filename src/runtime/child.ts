/**
 * A child process started with each runtime's own API: `Deno.Command` on
 * Deno, `node:child_process` on Node. On Deno, `node:child_process` needs
 * the `process` global, whose first read starts Deno's Node-compatibility
 * layer (tens of ms): a pool would pay that before its first worker is
 * spawned, where `Deno.Command` spawns in a few ms and lets the worker's
 * own start overlap whatever the parent does next. Standard input is
 * closed; output and errors go where this process's go.
 *
 * @module
 */
import { childProcess } from "./builtins.ts";

// deno-lint-ignore no-explicit-any
declare const Deno: any;

/** How a child ended, as Node reports it: an exit code, or the signal that killed it (code `null`). */
export interface ChildExit {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all. */
  error?: Error;
}

/** A started child process. */
export interface Child {
  /** Its process id (`undefined` when it could not be started). */
  readonly pid: number | undefined;
  /** Sends a signal (`"SIGTERM"`, `"SIGKILL"`…); ignored once it has exited. */
  kill(signal: string): void;
  /** Keeps this program alive until the child exits (the default)… */
  ref(): void;
  /** …or does not. */
  unref(): void;
}

const NOT_STARTED: Child = { pid: undefined, kill() {}, ref() {}, unref() {} };

/**
 * Starts `file` with `args` and exactly the environment `env`. `onExit`
 * runs once, never before this returns: when the child has exited, or
 * when it could not be started (`error` set).
 *
 * @example
 * ```ts
 * import { spawnChild } from "./src/runtime/child.ts";
 * const code = await new Promise((resolve) => spawnChild("/bin/sh", ["-c", "exit 3"], {}, (e) => resolve(e.code)));
 * console.assert(code === 3);
 * ```
 */
export function spawnChild(file: string, args: readonly string[], env: Record<string, string>, onExit: (exit: ChildExit) => void): Child {
  let reported = false;
  const report = (exit: ChildExit) => {
    if (reported) return;
    reported = true;
    onExit(exit);
  };
  if (typeof Deno !== "undefined") {
    // deno-lint-ignore no-explicit-any
    let child: any;
    try {
      child = new Deno.Command(file, { args, env, clearEnv: true, stdin: "null", stdout: "inherit", stderr: "inherit" }).spawn();
    } catch (err) {
      queueMicrotask(() => report({ code: null, signal: null, error: err as Error }));
      return NOT_STARTED;
    }
    child.status.then(
      (s: { code: number; signal: string | null }) => report(s.signal ? { code: null, signal: s.signal } : { code: s.code, signal: null }),
      (err: Error) => report({ code: null, signal: null, error: err }),
    );
    return {
      pid: child.pid,
      kill(signal) {
        try {
          child.kill(signal);
        } catch {
          // already exited
        }
      },
      ref: () => child.ref(),
      unref: () => child.unref(),
    };
  }
  const child = childProcess().spawn(file, args, { stdio: ["ignore", "inherit", "inherit"], env });
  child.on("error", (err) => report({ code: null, signal: null, error: err }));
  child.on("exit", (code, signal) => report({ code, signal }));
  return {
    pid: child.pid,
    kill(signal) {
      try {
        child.kill(signal as NodeJS.Signals);
      } catch {
        // already exited
      }
    },
    ref: () => child.ref(),
    unref: () => child.unref(),
  };
}
