/**
 * One local worker process as the parent sees it: spawned with the
 * runtime's own executable, connected back over the listener's unix socket,
 * sending and receiving wire messages. It reports exactly one exit, once
 * the child has exited and its connection is closed, with the exit code or
 * signal. Used by the `local` transport and by `Process`.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { childProcess, nodePath } from "../runtime/builtins.ts";
import { isDeno, workerCommand } from "../runtime/worker_command.ts";
import type { WorkerNeeds } from "../runtime/deno_permissions.ts";
import { config } from "../config.ts";
import { workerEnvironment } from "../state/redis.ts";
import { authkeyEnvironment } from "../task/authkey.ts";
import { expectWorker } from "./listener.ts";
import { forgetWorker, reapIfOrphaned } from "./reaper.ts";
import { type Msg, packet } from "./wire.ts";

/** How a worker process ended. */
export interface WorkerExit {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all. */
  error?: Error;
  /** Whether it ever connected (said HELLO). */
  connected: boolean;
}

/** Callbacks of a {@link WorkerProcess}. */
export interface WorkerEvents {
  onConnect(pid: number): void;
  /** The frames of one packet: `[head, body, head, body, …]`. */
  onMessages(frames: Uint8Array[]): void;
  onExit(exit: WorkerExit): void;
}

/** Describes an exit for error messages: "exited with code 3", "was killed by SIGKILL". */
export function describeExit(exit: WorkerExit): string {
  if (exit.error) return `could not be started: ${exit.error.message}`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  if (exit.code !== null) return `exited with code ${exit.code}`;
  return "closed its connection";
}

/**
 * The environment of a worker: ours, the configured extra variables, where
 * shared state lives (the session and Redis URL, and never an embedded
 * server of its own), this program's authkey (in the environment, which
 * other users cannot read, unlike arguments), and no Deno update check.
 */
function workerEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...config.get().envVars,
    ...workerEnvironment(),
    ...authkeyEnvironment(),
  };
  if (isDeno) env.DENO_NO_UPDATE_CHECK ??= "1";
  return env;
}

/**
 * What a worker needs beyond skypool's own modules, should this process
 * hold it only in part (Deno): its socket, the working directory (where
 * task modules usually are) and the Redis server.
 */
function workerNeeds(socketPath: string, redisUrl: string | undefined): WorkerNeeds {
  const socketDir = nodePath().dirname(socketPath);
  const needs: WorkerNeeds = { read: [socketDir, process.cwd()], write: [socketDir] };
  if (redisUrl) {
    try {
      const { hostname, port } = new URL(redisUrl);
      needs.net = [`${hostname}:${port || "6379"}`];
    } catch {
      // not a URL: the worker will say so when it uses it
    }
  }
  return needs;
}

/** Grace period between a child's exit and its socket closing (data may still be in flight). */
const CLOSE_GRACE_MS = 2000;

export class WorkerProcess {
  readonly pid: number | undefined;
  #child: ChildProcess;
  #socket: Socket | undefined;
  /** Frames posted and not yet written (`[head, body, …]`). */
  #outbox: Uint8Array[] = [];
  #flushQueued = false;
  #exited = false;
  #socketClosed = false;
  #exit: WorkerExit = { code: null, signal: null, connected: false };
  #reported = false;
  #refed = true;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #cancel: () => void;
  #release: () => void;

  constructor(private readonly events: WorkerEvents) {
    const { path, token, cancel, release } = expectWorker((conn) => {
      this.#socket = conn.socket;
      this.#exit.connected = true;
      conn.onMessages = (m) => this.events.onMessages(m);
      conn.socket.on("close", () => {
        this.#socketClosed = true;
        this.#maybeReport();
      });
      if (this.#refed) conn.socket.ref();
      // What was posted before the connection and what onConnect posts
      // (the first tasks) leave together, in one packet.
      this.events.onConnect(conn.pid);
      this.#scheduleFlush();
    });
    this.#cancel = cancel;
    this.#release = release;
    const env = workerEnv();
    const { file, args } = workerCommand([path, token, String(process.pid)], workerNeeds(path, env.SKYPOOL_REDIS_URL));
    this.#child = childProcess().spawn(file, args, { stdio: ["ignore", "inherit", "inherit"], env });
    this.pid = this.#child.pid;
    if (this.pid !== undefined) reapIfOrphaned(this.pid);
    this.#child.on("error", (err) => {
      this.#exit.error = err;
      this.#onChildExit(null, null);
    });
    this.#child.on("exit", (code, signal) => this.#onChildExit(code, signal));
  }

  #onChildExit(code: number | null, signal: string | null): void {
    if (this.#exited) return;
    this.#exited = true;
    if (this.pid !== undefined) forgetWorker(this.pid);
    this.#exit.code = code;
    this.#exit.signal = signal;
    this.#cancel();
    if (!this.#socket) this.#socketClosed = true;
    if (!this.#socketClosed) {
      this.#timer = setTimeout(() => {
        this.#socket?.destroy();
        this.#socketClosed = true;
        this.#maybeReport();
      }, CLOSE_GRACE_MS);
      this.#timer.unref?.();
    }
    this.#maybeReport();
  }

  #maybeReport(): void {
    if (this.#reported) return;
    if (this.#socketClosed && !this.#exited) {
      // The connection is gone but the process lingers: make sure it ends.
      this.#timer ??= setTimeout(() => this.kill("SIGKILL"), CLOSE_GRACE_MS);
      return;
    }
    if (!this.#exited || !this.#socketClosed) return;
    this.#reported = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#release();
    this.events.onExit(this.#exit);
  }

  /** Whether it has exited (or failed to start). */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Queues a message. Everything posted in the same tick goes out as one
   * packet, in one write; before the worker connects, messages wait.
   */
  post(msg: Msg): void {
    if (this.#exited || this.#socketClosed) return;
    this.#outbox.push(msg[0], msg[1]);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushQueued || !this.#socket || this.#outbox.length === 0) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      const frames = this.#outbox;
      this.#outbox = [];
      if (frames.length === 0 || this.#socketClosed) return;
      this.#socket!.write(packet(frames));
    });
  }

  /** Keeps the program alive while this worker has work (or lets it exit). */
  setRef(on: boolean): void {
    if (on === this.#refed) return;
    this.#refed = on;
    if (on) {
      this.#child.ref();
      this.#socket?.ref();
    } else {
      this.#child.unref();
      this.#socket?.unref();
    }
  }

  /** Sends a signal (default SIGTERM); ignored once exited. */
  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }
}
