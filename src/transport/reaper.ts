/**
 * The reaper: one tiny `/bin/sh` per program that outlives the program just
 * long enough to kill the worker processes it leaves behind and remove the
 * worker-socket folder.
 *
 * A worker notices its parent's death when its socket closes, but only
 * when its event loop turns: one busy in synchronous code (a long CPU
 * loop, `while (true) {}`) would run on, orphaned, for as long as that code
 * does. Nothing inside such a worker can act (a watchdog thread could, but
 * under Deno creating one blocks the worker 100-300 ms at start), and a
 * parent killed by SIGKILL runs no exit code. So the parent tells a
 * process of its own which workers are alive, over a pipe that only the
 * parent holds open: the kernel closes it when the parent ends, by any
 * path (exit, uncaught error, SIGTERM, SIGINT, SIGKILL), and the reaper,
 * blocked reading it, wakes at once.
 *
 * Without `/bin/sh`, or without the permission to run it, there is no
 * reaper; workers then go when their socket closes, and the first idle one
 * to see its parent gone removes the socket folder. The reaper starts a
 * little after the first worker connects (see `startReaper`): a program
 * killed before that leaves busy workers running, as it did without one.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { childProcess } from "../runtime/builtins.ts";

/**
 * Reads `+pid` / `-pid` lines; at end of input, SIGKILLs the pids still
 * listed and removes the folder `$1`. It ignores the signals a terminal or
 * a supervisor sends to the whole process group, so that it outlives the
 * program it watches.
 */
const SCRIPT = `trap '' INT TERM HUP QUIT
pids=' '
while IFS= read -r line; do
  p=\${line#?}
  case $line in
    +*) pids="$pids$p " ;;
    -*) case $pids in *" $p "*) pids="\${pids%% $p *} \${pids#* $p }" ;; esac ;;
  esac
done
[ "$pids" = ' ' ] || kill -9 $pids 2>/dev/null
rm -rf -- "$1"`;

/** How long after the first worker connects the reaper starts (ms). */
const START_DELAY_MS = 200;

let started = false;
let reaper: ChildProcess | undefined;
/** What was said before the reaper was running. */
let early: string[] | undefined = [];

function tell(line: string): void {
  if (early) early.push(line);
  else if (reaper?.stdin?.writable) reaper.stdin.write(line);
}

/**
 * Starts the reaper of this program (once), which removes `dir` when the
 * program ends. It starts {@link START_DELAY_MS} later: spawning it takes
 * the thread for a while (20-80 ms under Deno, which sets up a pipe), and
 * the first results of a pool should not wait for it. Workers registered
 * before are told to it then.
 */
export function startReaper(dir: string): void {
  if (started) return;
  started = true;
  const timer = setTimeout(() => {
    const lines = early!;
    early = undefined;
    try {
      const child = childProcess().spawn("/bin/sh", ["-c", SCRIPT, "skypool-reaper", dir], { stdio: ["pipe", "ignore", "ignore"] });
      // Its pipe breaks only if it is gone; workers then end as they did without it.
      child.on("error", () => {});
      child.stdin!.on("error", () => {});
      child.unref();
      (child.stdin as { unref?: () => void }).unref?.();
      reaper = child;
    } catch {
      // Not allowed to run /bin/sh (Deno's --allow-run without it): no reaper.
      return;
    }
    if (lines.length > 0) tell(lines.join(""));
  }, START_DELAY_MS);
  (timer as { unref?: () => void }).unref?.();
}

/** Has the reaper kill worker `pid` if this program ends first. */
export function reapIfOrphaned(pid: number): void {
  tell(`+${pid}\n`);
}

/** Worker `pid` has ended: its pid may be reused, so the reaper forgets it. */
export function forgetWorker(pid: number): void {
  tell(`-${pid}\n`);
}
