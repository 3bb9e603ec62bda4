/**
 * The options of `callAsync`, `map` and `mapReduce`, and their checks: a
 * bad or unknown option is a `TypeError`/`RangeError` naming it, raised
 * before any call is submitted.
 *
 * @module
 */
import type { PartitionOptions } from "./iterdata.ts";
import type { PartitionOptions as ObjectPartitionOptions } from "../storage/partitioner.ts";

/** Options of `callAsync` (and of every call of `map`). */
export interface CallOptions {
  /** Environment variables set in the worker while the call runs. */
  extraEnv?: Record<string, string>;
  /** A batch still running this many ms after it was handed to a worker fails its unfinished calls with `TimeoutError`. @default undefined (no limit) */
  timeout?: number;
  /** Try a call that threw or lost its worker up to this many more times, with backoff. @default the executor's `config.retries`, else config `retries` (0) */
  retries?: number;
}

/** Options of `map`. */
export interface MapOptions extends CallOptions, Pick<ObjectPartitionOptions, "objChunkSize" | "objChunkNumber" | "objNewline"> {
  /** Calls per batch. @default ceil(n / (4 × workers)), as `Pool.map` */
  chunksize?: number;
  /** Appended to each call's arguments: `fn(item, ...extraArgs)`. */
  extraArgs?: unknown[];
}

/** Options of `mapReduce`. */
export interface MapReduceOptions extends MapOptions {
  /** One reducer per object (inputs grouped by their `url`) instead of one in all. @default false */
  objReduceByKey?: boolean;
}

/** Call options after checking, with defaults applied. */
export interface CheckedCallOptions {
  extraEnv?: Record<string, string>;
  timeout?: number;
  /** `undefined`: the executor's default. */
  retries?: number;
}

const CALL_KEYS = ["extraEnv", "timeout", "retries"];
const MAP_KEYS = [...CALL_KEYS, "chunksize", "extraArgs", "objChunkSize", "objChunkNumber", "objNewline"];
const MAP_REDUCE_KEYS = [...MAP_KEYS, "objReduceByKey"];

function positiveInteger(value: unknown, name: string, what: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw new TypeError(`${what}: ${name} must be a number, got ${value === null ? "null" : typeof value}`);
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${what}: ${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/**
 * Refuses keys of an options object that are not among `allowed` (a typo would otherwise be ignored).
 * @throws {TypeError} naming the first unknown key and the known ones.
 */
export function checkKnownKeys(options: object, allowed: readonly string[], what: string, kind = "option"): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new TypeError(`${what}: unknown ${kind} ${JSON.stringify(key)} (expected ${allowed.join(", ")})`);
  }
}

function checkObject(options: unknown, what: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`${what}: options must be an object, got ${options === null ? "null" : Array.isArray(options) ? "an array" : typeof options}`);
  }
  return options as Record<string, unknown>;
}

/**
 * Checks a set of environment variables (an object of strings).
 * @throws {TypeError} naming the option, or the variable whose value is not a string.
 */
export function checkEnvironment(env: unknown, name: string, what: string): Record<string, string> | undefined {
  if (env === undefined) return undefined;
  if (env === null || typeof env !== "object" || Array.isArray(env)) throw new TypeError(`${what}: ${name} must be an object of strings`);
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== "string") throw new TypeError(`${what}: ${name}.${k} must be a string, got ${v === null ? "null" : typeof v}`);
  }
  return env as Record<string, string>;
}

/**
 * Checks a retry count.
 * @throws {TypeError|RangeError} unless it is an integer >= 0.
 */
export function checkRetries(value: unknown, name: string, what: string): number | undefined {
  return positiveInteger(value, name, what, 0);
}

function checkCall(o: Record<string, unknown>, what: string): CheckedCallOptions {
  const { timeout } = o;
  const extraEnv = checkEnvironment(o.extraEnv, "extraEnv", what);
  if (timeout !== undefined) {
    if (typeof timeout !== "number") throw new TypeError(`${what}: timeout must be a number of ms, got ${timeout === null ? "null" : typeof timeout}`);
    if (!(timeout > 0)) throw new RangeError(`${what}: timeout must be > 0 ms, got ${timeout}`);
  }
  const retries = checkRetries(o.retries, "retries", what);
  return { extraEnv, timeout: timeout as number | undefined, retries };
}

/**
 * Checks `callAsync`'s options.
 * @throws {TypeError|RangeError} naming the bad option.
 */
export function checkCallOptions(options: unknown, what: string): CheckedCallOptions {
  const o = checkObject(options, what);
  checkKnownKeys(o, CALL_KEYS, what);
  return checkCall(o, what);
}

/** `map`'s options after checking. */
export interface CheckedMapOptions extends CheckedCallOptions {
  chunksize?: number;
  extraArgs: unknown[];
  partitioning: PartitionOptions;
  objReduceByKey: boolean;
}

/**
 * Checks `map`'s (with `reduce`, `mapReduce`'s) options.
 * @throws {TypeError|RangeError} naming the bad option.
 */
export function checkMapOptions(options: unknown, what: string, reduce = false): CheckedMapOptions {
  const o = checkObject(options, what);
  checkKnownKeys(o, reduce ? MAP_REDUCE_KEYS : MAP_KEYS, what);
  const call = checkCall(o, what);
  const chunksize = positiveInteger(o.chunksize, "chunksize", what);
  const extraArgs = o.extraArgs ?? [];
  if (!Array.isArray(extraArgs)) throw new TypeError(`${what}: extraArgs must be an array, got ${extraArgs === null ? "null" : typeof extraArgs}`);
  const objChunkSize = positiveInteger(o.objChunkSize, "objChunkSize", what);
  const objChunkNumber = positiveInteger(o.objChunkNumber, "objChunkNumber", what);
  const objNewline = o.objNewline;
  if (objNewline !== undefined && objNewline !== null && (typeof objNewline !== "string" || objNewline.length === 0)) {
    throw new TypeError(`${what}: objNewline must be a non-empty string or null, got ${JSON.stringify(objNewline)}`);
  }
  const objReduceByKey = o.objReduceByKey ?? false;
  if (typeof objReduceByKey !== "boolean") throw new TypeError(`${what}: objReduceByKey must be a boolean, got ${typeof objReduceByKey}`);
  return {
    ...call,
    chunksize,
    extraArgs,
    partitioning: { objChunkSize, objChunkNumber, objNewline: objNewline as string | null | undefined },
    objReduceByKey,
  };
}
