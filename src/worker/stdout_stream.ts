/**
 * `STREAM_STDOUT`, the worker's side: while a batch runs, what it writes
 * to stdout (`console.log`, `console.info`, `console.debug`,
 * `process.stdout.write`) is still written here and is also published,
 * line by line as each line completes, to the caller's channel (see
 * `src/execution/stdout_relay.ts`). The batch is found from the write's
 * async context (`AsyncLocalStorage`), so batches with different callers
 * running at once in one worker are kept apart, and writes made in a
 * batch's callbacks and continuations count as the batch's.
 *
 * Publishing never holds up or fails a batch: lines are sent without
 * waiting for Redis, and a Redis failure is reported once on stderr.
 * A target whose MAC does not verify under this process's authkey is not
 * published to (reported once on stderr): a worker writes only where a
 * caller of its own program asked.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Buffer } from "node:buffer";
import process from "node:process";
import { format } from "node:util";
import type { StdoutTarget } from "../execution/stdout_relay.ts";
import { STDOUT_TARGET_KIND, stdoutTargetFields } from "../execution/stdout_relay.ts";
import { connectionFor } from "../state/redis.ts";
import { verify } from "../task/authkey.ts";

/** One batch's stream: its target and the line it has not finished yet. */
class LineStream {
  #partial = "";
  #decoder = new TextDecoder();
  constructor(readonly target: StdoutTarget) {}

  /** Adds written text (or bytes); publishes every line it completes. */
  add(chunk: unknown, encoding?: unknown): void {
    let text: string;
    if (typeof chunk === "string") text = typeof encoding === "string" && encoding !== "utf8" && encoding !== "utf-8" ? Buffer.from(chunk, encoding as BufferEncoding).toString("utf8") : chunk;
    else if (chunk instanceof Uint8Array) text = this.#decoder.decode(chunk, { stream: true });
    else return;
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) publish(this.target, line.endsWith("\r") ? line.slice(0, -1) : line);
  }

  /** Publishes the unfinished last line, if any (the batch has ended). */
  end(): void {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    if (rest.length > 0) publish(this.target, rest);
  }
}

const current = new AsyncLocalStorage<LineStream>();
let installed = false;
let publishFailed = false;
let refusedTarget = false;

function publish(target: StdoutTarget, line: string): void {
  connectionFor(target.url).command(["PUBLISH", target.channel, line]).catch((err: unknown) => {
    if (publishFailed) return;
    publishFailed = true;
    process.stderr.write(`skypool: STREAM_STDOUT: cannot publish worker output (${(err as Error)?.message ?? err}); it is still written here\n`);
  });
}

/**
 * Routes stdout writes to the stream of the batch they are made in, once
 * per process. Node's `console` writes through `process.stdout.write`;
 * Deno's writes to its own stdout, so there its stdout methods are
 * wrapped too (formatted as `console.log` formats).
 */
function install(): void {
  if (installed) return;
  installed = true;
  const stdout = process.stdout as unknown as { write: (...args: unknown[]) => boolean };
  const write = stdout.write;
  stdout.write = function (this: unknown, ...args: unknown[]): boolean {
    const stream = current.getStore();
    const written = write.apply(this, args);
    stream?.add(args[0], typeof args[1] === "string" ? args[1] : undefined);
    return written;
  };
  if (typeof (globalThis as { Deno?: unknown }).Deno === "undefined") return;
  const c = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const name of ["log", "info", "debug"]) {
    const original = c[name];
    c[name] = function (this: unknown, ...args: unknown[]): void {
      original.apply(this, args);
      current.getStore()?.add(format(...args) + "\n");
    };
  }
}

function validTarget(target: StdoutTarget): boolean {
  const t = target as unknown as Record<string, unknown>;
  const fields = ["url", "prefix", "session", "channel"];
  if (fields.some((k) => typeof t[k] !== "string") || !verify(STDOUT_TARGET_KIND, stdoutTargetFields(target), t.mac)) {
    if (!refusedTarget) {
      refusedTarget = true;
      process.stderr.write("skypool: STREAM_STDOUT: ignored a stdout target whose authkey signature does not match (its output is written here only)\n");
    }
    return false;
  }
  return true;
}

/**
 * Runs `run`, forwarding what it (and its async continuations) writes to
 * stdout to `target` line by line, as well as writing it here; the
 * unfinished last line is sent when `run` returns or its promise settles.
 * With no target (STREAM_STDOUT off) or one whose MAC does not verify,
 * it just runs `run`.
 *
 * @example
 * ```ts
 * import { withWorkerStdout } from "./src/worker/stdout_stream.ts";
 * console.assert(withWorkerStdout(undefined, () => 42) === 42);
 * ```
 * @throws what `run` throws (a returned promise rejects as it did).
 */
export function withWorkerStdout<T>(target: StdoutTarget | undefined, run: () => T): T {
  if (target === undefined || target === null || !validTarget(target)) return run();
  install();
  const stream = new LineStream(target);
  let result: T;
  try {
    result = current.run(stream, run);
  } catch (err) {
    stream.end();
    throw err;
  }
  const then = (result as { then?: unknown } | null)?.then;
  if (typeof then !== "function") {
    stream.end();
    return result;
  }
  return (result as unknown as Promise<unknown>).then(
    (value) => {
      stream.end();
      return value;
    },
    (err) => {
      stream.end();
      throw err;
    },
  ) as T;
}
