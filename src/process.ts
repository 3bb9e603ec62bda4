/**
 * `Process`: Python's `multiprocessing.Process`, running its target in a
 * worker process of its own (the pool's worker entry in one-shot mode).
 *
 * @module
 */
import { constants } from "node:os";
import { config } from "./config.ts";
import { StateError } from "./errors.ts";
import { resolveTransport } from "./execution/transport_registry.ts";
import type { StopBatch, TransportName } from "./transport/transport.ts";
import { checkOptions, checkTaskFn, checkTimeout, show } from "./validate.ts";
import { outcomeFromWire, toChunkOutcome } from "./execution/outcome.ts";
import { encode } from "./task/codec.ts";
import { type FunctionRef, shipFunction, type TaskFn } from "./task/function_ref.ts";
import { defineMsg, initMsg, Kind, Status } from "./transport/wire.ts";
import { type WorkerExit, WorkerProcess } from "./transport/worker_process.ts";

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
   * Where the target runs: `"local"` (a new process on this machine) or a
   * remote transport (`"fleet"`, …), where it runs as a batch of one task
   * on a worker elsewhere (`pid` is then `undefined`, and `terminate()`
   * stops waiting for it and sets `exitcode` -15 without reaching into the
   * worker).
   * @default config `transport` when it names a remote transport, else `"local"`
   */
  transport?: TransportName;
}

let counter = 0;

function signalNumber(signal: string): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
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
  #transport: string;
  #remote: { stop: StopBatch | void; exitcode?: number } | undefined;

  /**
   * A process that will run `options.target(...options.args)` in a new worker process once {@link Process.start} is called.
   * @throws {TypeError} for a target that is not a function or task reference, args that are not an array, a name that is not a string, a signal that is not an `AbortSignal`, a transport that is not a name (or is `"inline"`), or an unknown option. */
  constructor(options: ProcessOptions) {
    if (options === null || typeof options !== "object") throw new TypeError(`Process options must be an object with a target, got ${show(options)}`);
    const { target, args = [], name, signal, transport } = checkOptions<ProcessOptions>("Process options", options, ["target", "args", "name", "signal", "transport"]);
    const fn = checkTaskFn("Process target", target);
    if (!Array.isArray(args)) throw new TypeError(`Process args must be an array, got ${show(args)}`);
    if (name !== undefined && typeof name !== "string") throw new TypeError(`Process name must be a string, got ${show(name)}`);
    if (signal != null && !(signal instanceof AbortSignal)) throw new TypeError(`Process signal must be an AbortSignal, got ${show(signal)}`);
    if (transport !== undefined && (typeof transport !== "string" || transport === "inline")) {
      throw new TypeError(`Process transport must be "local" or a remote transport's name, got ${show(transport)}`);
    }
    const configured = config.get().transport;
    this.#transport = transport ?? (configured === "inline" ? "local" : configured);
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
   */
  start(): void {
    if (this.#exited) throw new StateError("cannot start a process twice");
    this.#signal?.throwIfAborted();
    const ref = shipFunction(this.#target);
    // A batch of one task: the list of its one argument list.
    const payload = encode(this.#transport === "local" ? this.#args : [this.#args]);
    let resolveExit!: () => void;
    this.#exited = new Promise<void>((resolve) => {
      resolveExit = resolve;
    });
    if (this.#transport !== "local") return this.#startRemote(ref, payload, resolveExit);
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

  // The target as one batch of one task on a remote transport: its outcome
  // sets exitcode and error as a local process's exit would.
  #startRemote(ref: FunctionRef, payload: Uint8Array, resolveExit: () => void): void {
    let transport;
    try {
      transport = resolveTransport(this.#transport, { processes: 1 }, "Process transport");
      if (transport.kind !== "remote") throw new TypeError(`Process transport must ship its target to workers; ${JSON.stringify(this.#transport)} runs it in this thread`);
      transport.start({});
    } catch (err) {
      // Not started: start() may be called again once the setting is fixed.
      this.#exited = undefined;
      throw err;
    }
    const remote: { stop: StopBatch | void; exitcode?: number } = { stop: undefined };
    this.#remote = remote;
    const onAbort = () => remote.stop?.(this.#signal!.reason);
    remote.stop = transport.submit({ fn: ref, payload, count: 1 }, (outcome) => {
      this.#signal?.removeEventListener("abort", onAbort);
      if (outcome.status === "ok") this.exitcode = 0;
      else {
        const chunk = toChunkOutcome(outcome);
        this.exitcode = remote.exitcode ?? 1;
        this.error = chunk.ok ? undefined : chunk.error;
      }
      transport.terminate().catch(() => {}).finally(resolveExit);
    });
    this.#signal?.addEventListener("abort", () => {
      remote.exitcode = -signalNumber("SIGTERM");
      onAbort();
    }, { once: true });
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
    if (this.#remote && this.exitcode === null) return await this.#stopRemote("SIGTERM");
    if (!this.#proc || this.exitcode !== null) return;
    this.#proc.kill("SIGTERM");
    await this.#exited;
  }

  /** Sends SIGKILL and waits for the process to end (`exitcode` -9). */
  async kill(): Promise<void> {
    if (this.#remote && this.exitcode === null) return await this.#stopRemote("SIGKILL");
    if (!this.#proc || this.exitcode !== null) return;
    this.#proc.kill("SIGKILL");
    await this.#exited;
  }

  // A remote worker cannot be signalled from here: the batch is given up
  // (the caller stops waiting; a fleet entry not yet taken is removed).
  async #stopRemote(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    this.#remote!.exitcode = -signalNumber(signal);
    this.#remote!.stop?.(new StateError(`${this.name} was ${signal === "SIGTERM" ? "terminated" : "killed"}`));
    await this.#exited;
  }
}
