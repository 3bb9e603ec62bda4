/**
 * The error classes skypool throws. Every one extends {@link SkypoolError},
 * so `err instanceof SkypoolError` tells skypool's own failures apart from
 * the built-in `TypeError`/`RangeError` used for bad arguments.
 *
 * @module
 */

/**
 * Base class of every error skypool defines.
 *
 * @example
 * ```ts
 * import { SkypoolError, StateError } from "./mod.ts";
 * console.assert(new StateError("pool is not running") instanceof SkypoolError);
 * ```
 */
export class SkypoolError extends Error {
  /**
   * An error with `message` (and `options.cause`), as `Error`.
   * @param message the error message.
   * @param options the standard `Error` options (`cause`).
   */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A blocking call ran out of time (`AsyncResult.get(timeout)`, `imap` next
 * with a timeout, a `Barrier` wait…). Python's `multiprocessing.TimeoutError`.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "./mod.ts";
 * const err = new TimeoutError("result not ready after 100 ms");
 * console.assert(err.name === "TimeoutError");
 * ```
 */
export class TimeoutError extends SkypoolError {}

/**
 * A `Barrier` was broken (aborted, reset while parties waited, or a wait
 * timed out) — Python's `threading.BrokenBarrierError`.
 *
 * @example
 * ```ts
 * import { BrokenBarrierError } from "./mod.ts";
 * console.assert(new BrokenBarrierError().name === "BrokenBarrierError");
 * ```
 */
export class BrokenBarrierError extends SkypoolError {}

/**
 * `Queue.get` without blocking (or after its timeout) found nothing —
 * Python's `queue.Empty`.
 *
 * @example
 * ```ts
 * import { QueueEmptyError } from "./mod.ts";
 * console.assert(new QueueEmptyError().name === "QueueEmptyError");
 * ```
 */
export class QueueEmptyError extends SkypoolError {}

/**
 * `Queue.put` without blocking (or after its timeout) found the queue full —
 * Python's `queue.Full`.
 *
 * @example
 * ```ts
 * import { QueueFullError } from "./mod.ts";
 * console.assert(new QueueFullError().name === "QueueFullError");
 * ```
 */
export class QueueFullError extends SkypoolError {}

/**
 * A call that the object's state does not allow: a pool that is not
 * running, `successful()` before ready, over-releasing a
 * `BoundedSemaphore`, too many `taskDone()` calls, releasing a lock one
 * does not own, using a closed queue or connection.
 *
 * @example
 * ```ts
 * import { StateError } from "./mod.ts";
 * console.assert(new StateError("Pool not running").message === "Pool not running");
 * ```
 */
export class StateError extends SkypoolError {}

/**
 * A Redis command got no reply in time: the server is frozen, overloaded
 * or unreachable. Whether the command was applied is unknown.
 *
 * @example
 * ```ts
 * import { CommandTimeoutError, StateError } from "./mod.ts";
 * const err = new CommandTimeoutError("BLPOP", 10_000, "redis://127.0.0.1:6379");
 * console.assert(err instanceof StateError && err.command === "BLPOP" && /10000 ms/.test(err.message));
 * ```
 */
export class CommandTimeoutError extends StateError {
  /** The command that got no reply (`EVALSHA`, `BLPOP`…). */
  readonly command: string;
  /** How long it waited, in ms. */
  readonly timeoutMs: number;
  /**
   * The error for `command`, sent to `url`, getting no reply within `timeoutMs`.
   * @param command the command that got no reply.
   * @param timeoutMs how long it waited, in ms (rounded in the message).
   * @param url the Redis server it was sent to (named in the message).
   */
  constructor(command: string, timeoutMs: number, url: string) {
    super(
      `Redis ${command} got no reply from ${url} within ${Math.round(timeoutMs)} ms: the server is frozen or unreachable, ` +
        "so whether the command was applied is unknown (redis.commandTimeoutMs sets this deadline)",
    );
    this.command = command;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A value or function that cannot be shipped to another process. The
 * message names the offending path (`args[0].callback`) or identifier.
 *
 * @example
 * ```ts
 * import { SerializationError } from "./mod.ts";
 * console.assert(new SerializationError("args[0] is a function").name === "SerializationError");
 * ```
 */
export class SerializationError extends SkypoolError {}

/**
 * An exception thrown by user code in a worker whose class is not one of
 * the built-in error types. It keeps the remote class name, message and
 * stack.
 *
 * @example
 * ```ts
 * import { RemoteError } from "./mod.ts";
 * const err = new RemoteError("KeyError", "missing key", "KeyError: missing key\n    at worker");
 * console.assert(err.remoteName === "KeyError" && err.message === "missing key");
 * ```
 */
export class RemoteError extends SkypoolError {
  /** The `name` of the error as it was thrown in the worker. */
  readonly remoteName: string;
  /** The stack trace as it was in the worker (empty if it had none). */
  readonly remoteStack: string;
  /**
   * A worker-side error, rebuilt on the caller's side.
   * @param remoteName the `name` of the error thrown in the worker.
   * @param message its message.
   * @param remoteStack its stack trace in the worker (default: none).
   * @param options the standard `Error` options (`cause`).
   */
  constructor(remoteName: string, message: string, remoteStack = "", options?: ErrorOptions) {
    super(message, options);
    this.remoteName = remoteName;
    this.remoteStack = remoteStack;
  }
}

/**
 * The worker running a task died or vanished before it returned a result.
 *
 * @example
 * ```ts
 * import { WorkerLostError } from "./mod.ts";
 * console.assert(new WorkerLostError("worker 1 exited with code 3").name === "WorkerLostError");
 * ```
 */
export class WorkerLostError extends SkypoolError {}

/**
 * The other end of a `Connection` is closed and nothing is left to read.
 *
 * @example
 * ```ts
 * import { EOFError } from "./mod.ts";
 * console.assert(new EOFError().name === "EOFError");
 * ```
 */
export class EOFError extends SkypoolError {}
