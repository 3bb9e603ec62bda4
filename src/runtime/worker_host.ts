/**
 * What a worker process needs from its runtime: its pid, a unix-socket
 * connection back to the parent, and a way to exit. Under Deno this uses
 * `Deno.connect`, because loading `node:net` there costs more than the
 * rest of the worker's start-up; under Node it uses `node:net`, loaded only
 * there.
 *
 * @module
 */

import { fs } from "./builtins.ts";
import { unrefTimer } from "./unref_timer.ts";

// deno-lint-ignore no-explicit-any
declare const Deno: any;

/** Bytes asked for per read on Deno (what its own conn.readable reads). */
const READ_SIZE = 64 * 1024;

/** A byte stream to the parent. Writes are queued and never block the caller. */
export interface ParentLink {
  write(chunk: Uint8Array): void;
  /** Resolves when everything written so far has been handed to the OS. */
  flush(): Promise<void>;
}

/** True under Deno. */
export const isDeno: boolean = typeof Deno !== "undefined";

/** This process's id. */
export function pid(): number {
  return typeof Deno !== "undefined" ? Deno.pid : process.pid;
}

/** The id of this process's parent now (it changes when the parent dies). */
export function ppid(): number {
  return typeof Deno !== "undefined" ? Deno.ppid : process.ppid;
}

/**
 * Calls `fn` once, `ms` from now, keeping the process alive until then.
 *
 * Not with `setTimeout` on Deno: its global `setTimeout` is Node's (it
 * returns a `Timeout`), and the first call in a process sets up Node's
 * timers, 4.5–7 ms of synchronous work measured on the 2-core CI machine,
 * which a worker would pay on its way to its first result.
 * `AbortSignal.timeout` runs on Deno's own web timers (0.5 ms).
 */
export function after(ms: number, fn: () => void): void {
  if (typeof Deno !== "undefined") AbortSignal.timeout(ms).addEventListener("abort", () => fn(), { once: true });
  else setTimeout(fn, ms);
}

/**
 * Calls `onGone` once this process's parent id is no longer `parentPid`
 * (the parent died), checking every `everyMs` while the event loop turns.
 * After its first check it never keeps the process alive. On Deno the
 * first check waits on {@link after}, so that Node's timers (an unref-able
 * interval) are set up a check later, off the way to the first result.
 */
export function watchParent(parentPid: number, everyMs: number, onGone: () => void): void {
  const check = (): boolean => {
    if (ppid() === parentPid) return false;
    onGone();
    return true;
  };
  const watch = (): void => {
    const timer = setInterval(() => {
      if (check()) clearInterval(timer);
    }, everyMs);
    unrefTimer(timer);
  };
  if (typeof Deno !== "undefined") after(everyMs, () => void (check() || watch()));
  else watch();
}

/**
 * Removes the parent's socket at `socketPath` and its folder, if empty:
 * the parent's own clean-up after it was killed, when its reaper could not
 * run (see `transport/reaper.ts`). Never throws.
 */
export function removeSocket(socketPath: string): void {
  const dir = socketPath.slice(0, socketPath.lastIndexOf("/"));
  try {
    if (typeof Deno !== "undefined") {
      Deno.removeSync(socketPath);
      Deno.removeSync(dir);
    } else {
      fs().rmSync(socketPath, { force: true });
      fs().rmdirSync(dir);
    }
  } catch {
    // already gone (another worker, or the reaper, was first), or not ours to remove
  }
}

/** Ends this process now with `code`. */
export function exit(code: number): never {
  if (typeof Deno !== "undefined") Deno.exit(code);
  process.exit(code);
}

/**
 * Connects to the parent's unix socket at `path`. `onData` gets every chunk
 * read; `onClose` runs once when the parent's end goes away.
 */
export async function connectToParent(
  path: string,
  onData: (chunk: Uint8Array) => void,
  onClose: () => void,
): Promise<ParentLink> {
  if (typeof Deno !== "undefined") {
    // conn.read and conn.write, not conn.readable and conn.writable: a
    // worker's first use of Deno's web streams cost ~7 ms of its start
    // (their code compiled on first use; the first chunk reached the worker
    // that long after it had loaded), and they add promise hops per chunk.
    const conn = await Deno.connect({ transport: "unix", path });
    let last: Promise<void> = Promise.resolve();
    (async () => {
      try {
        for (;;) {
          const chunk = new Uint8Array(READ_SIZE);
          const n: number | null = await conn.read(chunk);
          if (n === null) break;
          onData(chunk.subarray(0, n));
        }
      } catch {
        // a reset connection ends the worker the same way as a clean close
      }
      onClose();
    })();
    const writeAll = async (chunk: Uint8Array): Promise<void> => {
      for (let done = 0; done < chunk.length;) done += await conn.write(chunk.subarray(done));
    };
    let writing = 0;
    return {
      write(chunk) {
        // In order, one at a time, as a stream writer would. A write with
        // none ahead of it starts now, not a microtask later: the hello is
        // followed by the worker's module load, which holds up Deno's
        // event loop (the hello then reached the parent ~15 ms late).
        const start = () => writeAll(chunk).finally(() => writing--);
        last = (writing++ === 0 ? start() : last.then(start)).catch(() => {});
      },
      flush: () => last,
    };
  }
  const net = await import("node:net");
  const socket = net.connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.setNoDelay?.(true);
  socket.on("data", (chunk: Uint8Array) => onData(chunk));
  socket.on("error", () => {});
  socket.on("close", onClose);
  return {
    write(chunk) {
      socket.write(chunk);
    },
    flush() {
      if (socket.writableLength === 0) return Promise.resolve();
      return new Promise((resolve) => socket.write(new Uint8Array(0), () => resolve()));
    },
  };
}
