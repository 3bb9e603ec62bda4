/**
 * `Process`: Python's `multiprocessing.Process`, running its target in a
 * worker process of its own (the pool's worker entry in one-shot mode).
 *
 * @module
 */
import { config } from "./config.ts";
import { StateError } from "./errors.ts";
import { resolveTransport } from "./execution/transport_registry.ts";
import { checkOptions, checkTaskFn, checkTimeout, show } from "./validate.ts";
import { outcomeFromWire, toChunkOutcome } from "./execution/outcome.ts";
import { encode } from "./task/codec.ts";
import { shipFunction, type TaskFn } from "./task/function_ref.ts";
import type { StopBatch, TransportName } from "./transport/transport.ts";
import { defineMsg, initMsg, Kind, Status } from "./transport/wire.ts";
import { type WorkerExit, WorkerProcess } from "./transport/worker_process.ts";
import { nodeOs } from "./runtime/builtins.ts";

/** Options of {@link Process}. */
export interface ProcessOptions {
  /** What to run: a self-contained function or `task(moduleUrl, exportName)`. */
  target: TaskFn;
  /** Arguments of `target`. */
  args?: unknown[];
  /** The process's name. @default `Process-N`, N counting the `Process` objects made in this program */
  name?: string;
  /**
   * Aborting it terminates the running process (SIGTERM, `exitcode` -15)
   * and sets `error` to `signal.reason`; `start()` with a signal already
   * aborted throws its reason and starts nothing.
   */
  signal?: AbortSignal;
  /**
   * Where the target runs: `"local"` (a process of its own on this machine)
   * or a remote transport (`"http"`, …), where it runs as one batch and
   * `pid` stays `undefined`. @default config `transport` when it names a
   * remote transport, else `"local"`
   */
  transport?: TransportName;
}

let counter = 0;

/** Transports that run a `Process` target as a local process of its own. */
const LOCAL = new Set(["local", "inline"]);

function signalNumber(signal: string): number {
  return (nodeOs().constants.signals as Record<string, number>)[signal] ?? 0;
}

/**
 * Runs `target(...args)` in a new process, as CPython's `Process`.
 * `exitcode` is `null` until it ends, then `0` (returned), `1` (threw; see
 * `error`, also printed to the child's stderr), the code it passed to
 * `process.exit`, or `-N` when signal N ended it (`terminate()` gives -15).
 * The target's return value is not kept, as in CPython. A running process
 * keeps the program alive, as CPython's non-daemon processes do.
 *
 * @example
 * ```ts
 * import { Process } from "./mod.ts";
 * const p = new Process({ target: (ms: number) => new Promise((r) => setTimeout(r, ms)), args: [10] });
 * p.start();
 * await p.join();
 * console.assert(p.exitcode === 0 && !p.isAlive());
 * ```
 */
export class Process {
  /** The process's name (`Process-N` unless given). */
  readonly name: string;
  /** The exit code; `null` while running or not started. */
  exitcode: number | null = null;
  /** The error the target threw (when `exitcode` is 1 because it threw). */
  error: unknown = undefined;
  #target: TaskFn;
  #args: unknown[];
  #proc: WorkerProcess | undefined;
  #pid: number | undefined;
  #exited: Promise<void> | undefined;
  #signal: AbortSignal | undefined;
  #transport: string | undefined;
  /** Ends the target's batch on a remote transport. */
  #stopRemote: StopBatch | undefined;

  /**
   * A process that will run `options.target(...options.args)` in a new worker process once {@link Process.start} is called.
   * @throws {TypeError} for a target that is not a function or task reference, args that are not an array, a name that is not a string, a signal that is not an `AbortSignal`, or an unknown option. */
  constructor(options: ProcessOptions) {
    if (options === null || typeof options !== "object") throw new TypeError(`Process options must be an object with a target, got ${show(options)}`);
    const { target, args = [], name, signal, transport } = checkOptions<ProcessOptions>("Process options", options, ["target", "args", "name", "signal", "transport"]);
    if (transport !== undefined && (typeof transport !== "string" || transport.length === 0)) {
      throw new TypeError(`Process transport must be a transport name, got ${show(transport)}`);
    }
    this.#transport = transport;
    const fn = checkTaskFn("Process target", target);
    if (!Array.isArray(args)) throw new TypeError(`Process args must be an array, got ${show(args)}`);
    if (name !== undefined && typeof name !== "string") throw new TypeError(`Process name must be a string, got ${show(name)}`);
    if (signal != null && !(signal instanceof AbortSignal)) throw new TypeError(`Process signal must be an AbortSignal, got ${show(signal)}`);
    this.#signal = signal ?? undefined;
    counter++;
    this.name = name ?? `Process-${counter}`;
    this.#target = fn;
    this.#args = args;
  }

  /** The child's process id (`undefined` before `start()`). */
  get pid(): number | undefined {
    return this.#pid;
  }

  /**
   * Starts the process.
   * @throws {StateError} when called twice; {SerializationError} when the target or its arguments cannot be shipped; the `signal`'s reason when it is already aborted.
   * @throws {SkypoolError} when a remote `transport` cannot start (no `SKYPOOL_AUTHKEY`).
   */
  start(): void {
    if (this.#exited) throw new StateError("cannot start a process twice");
    this.#signal?.throwIfAborted();
    const ref = shipFunction(this.#target);
    const payload = encode(this.#args);
    const configured = config.get().transport;
    const where = this.#transport ?? (LOCAL.has(configured) ? "local" : configured);
    if (where !== "local") return this.#startRemote(where, ref);
    let resolveExit!: () => void;
    this.#exited = new Promise<void>((resolve) => {
      resolveExit = resolve;
    });
    this.#proc = new WorkerProcess({
      onConnect: () => {},
      onMessages: (frames) => {
        for (let i = 0; i + 1 < frames.length; i += 2) {
          const m = frames[i];
          // The target's value is not kept (as CPython): only a failure matters.
          if (m[0] !== Kind.DONE || m[1] === Status.OK) continue;
          const outcome = toChunkOutcome(outcomeFromWire(m[1], frames[i + 1]));
          if (!outcome.ok) this.error = outcome.error;
        }
      },
      onExit: (exit: WorkerExit) => {
        if (exit.signal) this.exitcode = -signalNumber(exit.signal);
        else if (exit.code !== null) this.exitcode = exit.code;
        else {
          this.exitcode = 1;
          this.error ??= exit.error;
        }
        this.#signal?.removeEventListener("abort", onAbort);
        resolveExit();
      },
    });
    const onAbort = () => {
      this.error = this.#signal!.reason;
      this.#proc!.kill("SIGTERM");
    };
    this.#signal?.addEventListener("abort", onAbort, { once: true });
    this.#pid = this.#proc.pid;
    this.#proc.post(defineMsg(0, JSON.stringify(ref)));
    this.#proc.post(initMsg(Kind.RUN, 0, payload));
  }

  /** Runs the target as one batch of a remote transport of its own. */
  #startRemote(name: string, ref: ReturnType<typeof shipFunction>): void {
    const transport = resolveTransport(name, { processes: 1 }, "Process transport");
    if (transport.kind !== "remote") throw new TypeError(`Process transport must be "local" or a remote transport, got ${show(name)}`);
    transport.start({});
    let resolveExit!: () => void;
    this.#exited = new Promise<void>((resolve) => (resolveExit = resolve));
    const onAbort = () => void this.#endRemote(-15, this.#signal!.reason);
    this.#signal?.addEventListener("abort", onAbort, { once: true });
    // One task: the argument list of the target.
    const payload = encode([this.#args]);
    this.#stopRemote = transport.submit({ fn: ref, payload, count: 1 }, (o) => {
      const outcome = toChunkOutcome(o);
      if (this.exitcode === null) {
        this.exitcode = outcome.ok ? 0 : 1;
        if (!outcome.ok) this.error = outcome.error;
      }
      this.#signal?.removeEventListener("abort", onAbort);
      transport.close().finally(resolveExit);
    }) ?? undefined;
  }

  /** Ends a remote target: `exitcode` as a signal would set it locally. */
  async #endRemote(exitcode: number, error?: unknown): Promise<void> {
    if (this.exitcode !== null) return;
    this.exitcode = exitcode;
    if (error !== undefined) this.error = error;
    this.#stopRemote?.(new StateError(`process ${this.name} was stopped (exit code ${exitcode})`));
    await this.#exited;
  }

  /** Whether it has started and not yet ended. */
  isAlive(): boolean {
    return this.#exited !== undefined && this.exitcode === null;
  }

  /**
   * Waits until the process ends, or `timeout` ms (a negative timeout acts as 0).
   * @throws (rejects) {StateError} when it was never started; {TypeError} for a bad timeout.
   */
  async join(timeout?: number): Promise<void> {
    const ms = checkTimeout("Process.join timeout", timeout);
    if (!this.#exited) throw new StateError("can only join a started process");
    if (ms === undefined) return await this.#exited;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#exited, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Sends SIGTERM and waits for the process to end (`exitcode` -15). A process not started is left alone. */
  async terminate(): Promise<void> {
    if (this.#stopRemote) return await this.#endRemote(-15);
    if (!this.#proc || this.exitcode !== null) return;
    this.#proc.kill("SIGTERM");
    await this.#exited;
  }

  /** Sends SIGKILL and waits for the process to end (`exitcode` -9). */
  async kill(): Promise<void> {
    if (this.#stopRemote) return await this.#endRemote(-9);
    if (!this.#proc || this.exitcode !== null) return;
    this.#proc.kill("SIGKILL");
    await this.#exited;
  }
}
