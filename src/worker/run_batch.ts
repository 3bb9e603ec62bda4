/**
 * The worker core: runs one batch (a function and the encoded argument
 * lists of a chunk) and encodes what came of it. Every worker adapter
 * (subprocess loop, later Lambda, HTTP, stream consumer) calls this.
 *
 * A synchronous function is run synchronously and the result returned as
 * is, so a stream of tiny tasks never waits on a microtask per task; a
 * function that returns a promise switches the rest of the chunk to async.
 * As in CPython, a chunk stops at its first error and fails as a whole.
 *
 * @module
 */
import { decode, encode } from "../task/codec.ts";
import { SerializationError } from "../errors.ts";
import { Status } from "../transport/wire.ts";
import { kindOf, messageOf, thenOf } from "./untrusted.ts";

// Handle classes (Lock, Queue, …) register their codec kinds when their
// modules load. Workers do not load them up front (node-redis would add to
// every worker's start time); the first payload that names an unknown kind
// loads them all, once, and is decoded again.
let stateHandles: Promise<unknown> | undefined;

function needsStateHandles(err: unknown): boolean {
  return stateHandles === undefined && err instanceof SerializationError &&
    err.message.startsWith("cannot decode a handle of unknown kind");
}

// The specifier is built at run time on purpose: Deno loads every literal
// `import("…")` of a module's graph up front, and this one reaches
// node-redis, which cost every worker start 2-4 ms that only the rare task
// carrying a handle needs. The extension follows this file's (.ts under
// Deno, .js in the npm build).
const HANDLES_URL = new URL(`../state/all_handles${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url).href;

function loadStateHandles(): Promise<unknown> {
  return stateHandles ??= import(HANDLES_URL);
}

/** What a batch came to: a status byte (see `Status`) and its payload. */
export interface BatchResult {
  status: number;
  payload: Uint8Array;
}

type Fn = (...args: unknown[]) => unknown;

const utf8 = new TextEncoder();

/** Encodes a thrown value; one that cannot be encoded travels as a plain Error describing it. */
export function encodeThrown(err: unknown): BatchResult {
  try {
    return { status: Status.THREW, payload: encode(err) };
  } catch (failure) {
    try {
      return { status: Status.THREW, payload: encode(plainCopy(err)) };
    } catch {
      // Its getters or traps throw: nothing of it can be read safely.
      const error = new SerializationError(`the task threw ${kindOf(err)} that cannot be serialized: ${messageOf(failure)}`);
      return { status: Status.THREW, payload: encode(error) };
    }
  }
}

/** A plain Error with the name, message and stack of `err` (reading them may throw). */
function plainCopy(err: unknown): Error {
  const e = err as { name?: unknown; message?: unknown; stack?: unknown } | null;
  const message = e?.message;
  const plain = new Error(typeof message === "string" ? message : String(err));
  const name = e?.name;
  plain.name = typeof name === "string" ? name : "Error";
  const stack = e?.stack;
  if (typeof stack === "string") plain.stack = stack;
  return plain;
}

/** Encodes a value returned by user code; a value the codec refuses becomes UNSERIALIZABLE. */
export function encodeReturned(value: unknown): BatchResult {
  try {
    return { status: Status.OK, payload: encode(value) };
  } catch (err) {
    // Usually a SerializationError; a getter or trap of the value may throw anything.
    return { status: Status.UNSERIALIZABLE, payload: utf8.encode(messageOf(err)) };
  }
}

async function finishAsync(
  fn: Fn,
  tasks: unknown[],
  each: boolean,
  results: unknown[],
  i: number,
  pending: PromiseLike<unknown>,
): Promise<BatchResult> {
  try {
    results[i] = await pending;
    for (i++; i < tasks.length; i++) {
      const r = each ? fn(tasks[i]) : fn(...(tasks[i] as unknown[]));
      results[i] = thenOf(r) ? await r : r;
    }
  } catch (err) {
    return encodeThrown(err);
  }
  return encodeReturned(results);
}

/**
 * Runs `fn` on every task in `payload`, in order: `payload` is
 * `encode(argLists)` and task i is `fn(...argLists[i])`, or with `each`,
 * `encode(items)` and task i is `fn(items[i])`. Returns synchronously when
 * every call was synchronous.
 */
export function runBatch(fn: Fn, payload: Uint8Array, each = false): BatchResult | Promise<BatchResult> {
  let tasks: unknown[];
  try {
    tasks = decode(payload) as unknown[];
  } catch (err) {
    if (needsStateHandles(err)) return loadStateHandles().then(() => runBatch(fn, payload, each));
    return encodeThrown(err);
  }
  const results = new Array<unknown>(tasks.length);
  for (let i = 0; i < tasks.length; i++) {
    let r: unknown;
    let then;
    try {
      r = each ? fn(tasks[i]) : fn(...(tasks[i] as unknown[]));
      // A `then` getter that throws fails the task, as awaiting it would.
      then = thenOf(r);
    } catch (err) {
      return encodeThrown(err);
    }
    if (then) return finishAsync(fn, tasks, each, results, i, r as PromiseLike<unknown>);
    results[i] = r;
  }
  return encodeReturned(results);
}

/** Runs `fn(...args)` once (an initializer or a `Process` target), awaiting it. */
export async function runOnce(fn: Fn, payload: Uint8Array): Promise<BatchResult> {
  try {
    let args: unknown[];
    try {
      args = decode(payload) as unknown[];
    } catch (err) {
      if (!needsStateHandles(err)) throw err;
      await loadStateHandles();
      args = decode(payload) as unknown[];
    }
    await fn(...args);
  } catch (err) {
    return encodeThrown(err);
  }
  return { status: Status.OK, payload: new Uint8Array(0) };
}
