/**
 * Argument checks shared by every public constructor and method, so that
 * a bad argument is refused the same way everywhere: at the call, before
 * anything is sent anywhere, as a `TypeError` (wrong kind of value) or a
 * `RangeError` (a number that is NaN, fractional or out of range; a string
 * that is not one of the allowed ones), with a message that names the
 * argument and shows the value it got.
 *
 * @module
 */
import { TaskRef, type TaskFn } from "./task/function_ref.ts";

/**
 * A short, unambiguous rendering of a value for an error message: strings
 * quoted, `NaN`/`Infinity`/`-0` and bigints as written in code, objects by
 * their class.
 *
 * @example
 * ```ts
 * import { show } from "./src/validate.ts";
 * console.assert(show("5") === '"5"' && show(5) === "5" && show(new Map()) === "a Map");
 * ```
 */
export function show(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "boolean":
      return String(v);
    case "bigint":
      return `${v}n`;
    case "function":
      return v.name ? `function ${v.name}` : "a function";
    case "symbol":
      return v.toString();
    case "undefined":
      return "undefined";
  }
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  let name: string | undefined;
  try {
    name = Object.getPrototypeOf(v)?.constructor?.name;
  } catch {
    // a Proxy whose trap throws: describe it generically
  }
  if (!name || name === "Object") return "an object";
  return `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;
}

/**
 * Checks that `value` is a plain options object (`undefined`/`null` give
 * `{}`) whose keys are all in `allowed`: a misspelt option is refused
 * rather than silently ignored.
 *
 * @example
 * ```ts
 * import { checkOptions } from "./src/validate.ts";
 * console.assert(checkOptions("Barrier options", { timeout: 5 }, ["action", "timeout"]).timeout === 5);
 * ```
 * @throws {TypeError} for a value that is not an object, or an unknown key.
 */
export function checkOptions<T extends object = Record<string, unknown>>(what: string, value: unknown, allowed: readonly string[]): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${what} must be an object, got ${show(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${what}: unknown option ${JSON.stringify(key)} (expected ${allowed.map((k) => JSON.stringify(k)).join(", ")})`);
    }
  }
  return value as Partial<T>;
}

/** Bounds of {@link checkInteger} (inclusive). */
export interface IntegerBounds {
  min?: number;
  max?: number;
}

function rangeText(min: number, max: number): string {
  if (max === Number.MAX_SAFE_INTEGER) return min === Number.MIN_SAFE_INTEGER ? "an integer" : `an integer >= ${min}`;
  return `an integer from ${min} to ${max}`;
}

/**
 * Checks an integer argument.
 *
 * @example
 * ```ts
 * import { checkInteger } from "./src/validate.ts";
 * console.assert(checkInteger("Barrier parties", 3, { min: 1 }) === 3);
 * ```
 * @throws {TypeError} for a value that is not a number.
 * @throws {RangeError} for NaN, ±Infinity, a fraction, or a value outside `[min, max]`.
 */
export function checkInteger(what: string, value: unknown, bounds: IntegerBounds = {}): number {
  const min = bounds.min ?? Number.MIN_SAFE_INTEGER;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== "number") throw new TypeError(`${what} must be ${rangeText(min, max)}, got ${show(value)}`);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be ${rangeText(min, max)}, got ${show(value)}`);
  }
  return value;
}

/**
 * Checks a boolean argument (no truthy strings: `"no"` is not `false`).
 *
 * @example
 * ```ts
 * import { checkBoolean } from "./src/validate.ts";
 * console.assert(checkBoolean("Pipe duplex", false) === false);
 * ```
 * @throws {TypeError} for anything but `true` or `false`.
 */
export function checkBoolean(what: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${what} must be true or false, got ${show(value)}`);
  return value;
}

/**
 * Checks a callable argument.
 *
 * @example
 * ```ts
 * import { checkFunction } from "./src/validate.ts";
 * checkFunction("waitFor predicate", () => true);
 * ```
 * @throws {TypeError} for a value that is not a function.
 */
export function checkFunction<F extends (...args: never[]) => unknown>(what: string, value: unknown): F {
  if (typeof value !== "function") throw new TypeError(`${what} must be a function, got ${show(value)}`);
  return value as F;
}

/**
 * Checks a string argument that must be one of `choices`.
 *
 * @example
 * ```ts
 * import { checkChoice } from "./src/validate.ts";
 * console.assert(checkChoice("mode", "a", ["a", "b"]) === "a");
 * ```
 * @throws {TypeError} for a value that is not a string.
 * @throws {RangeError} for a string that is not one of `choices`.
 */
export function checkChoice<S extends string>(what: string, value: unknown, choices: readonly S[]): S {
  const expected = choices.map((c) => JSON.stringify(c)).join(" or ");
  if (typeof value !== "string") throw new TypeError(`${what} must be ${expected}, got ${show(value)}`);
  if (!(choices as readonly string[]).includes(value)) throw new RangeError(`${what} must be ${expected}, got ${show(value)}`);
  return value as S;
}

/**
 * The longest delay a JS timer honours (2^31 − 1 ms, about 24.8 days):
 * a longer one fires at once, so a longer timeout waits forever instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks a timeout in ms: `undefined`/`null` and `Infinity` wait forever
 * (as does anything longer than a timer can hold); a negative timeout acts
 * as 0, as in CPython's multiprocessing (`join(-1)` returns at once).
 *
 * @example
 * ```ts
 * import { checkTimeout } from "./src/validate.ts";
 * console.assert(checkTimeout("join timeout", -5) === 0 && checkTimeout("join timeout", Infinity) === undefined);
 * ```
 * @throws {TypeError} for a value that is not a number.
 * @throws {RangeError} for NaN.
 */
export function checkTimeout(what: string, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number") throw new TypeError(`${what} must be a number of milliseconds or undefined, got ${show(value)}`);
  if (Number.isNaN(value)) throw new RangeError(`${what} must be a number of milliseconds or undefined, got NaN`);
  if (value > MAX_TIMER_MS) return undefined;
  return Math.max(0, value);
}

/**
 * Checks a task function: a function, or a `task(moduleUrl, name)` reference.
 *
 * @example
 * ```ts
 * import { checkTaskFn } from "./src/validate.ts";
 * checkTaskFn("Process target", (x: number) => x);
 * ```
 * @throws {TypeError} for anything else.
 */
export function checkTaskFn(what: string, value: unknown): TaskFn {
  if (typeof value !== "function" && !(value instanceof TaskRef)) {
    throw new TypeError(`${what} must be a function or task(url, name), got ${show(value)}`);
  }
  return value as TaskFn;
}
