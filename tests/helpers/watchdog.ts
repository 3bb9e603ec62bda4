/**
 * Test helper: a `/bin/sh` that runs a shell command when the pipe from
 * this process closes. `process.on("exit")` hooks do not run when the test
 * runner itself is killed (SIGKILL, a CI timeout), and a server left running
 * would hold its port and folder; the pipe is the one thing the kernel
 * closes on every kind of death. The shell ignores the signals a dying
 * process group gets, so that it outlives the runner long enough to act.
 *
 * ```ts
 * const dog = startWatchdog(`kill -9 ${child.pid} 2>/dev/null`);
 * // … and once the child is gone for good:
 * dog?.kill("SIGKILL");
 * ```
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";

/**
 * Starts the watchdog; `onDeath` is the shell command it runs once this
 * process is gone. Kill the watchdog (SIGKILL) once it has nothing left to
 * guard. Returns `undefined` where `/bin/sh` cannot be started: then only
 * the caller's own exit hooks clean up.
 */
export function startWatchdog(onDeath: string): ChildProcess | undefined {
  try {
    const dog = spawn("/bin/sh", ["-c", `trap '' INT TERM HUP QUIT; read -r _; ${onDeath}`], {
      stdio: ["pipe", "ignore", "ignore"],
    });
    dog.on("error", () => {});
    // Neither the watchdog nor its pipe may keep a finished test run alive.
    dog.unref();
    (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return dog;
  } catch {
    return undefined;
  }
}
