/**
 * Reading values that user code made (a task's result, a thrown value)
 * without letting that code take the worker down: a getter, a `Proxy` trap
 * or a `Symbol.toPrimitive` method may throw anything, and what it throws
 * is just as untrusted. Every function here returns, whatever the value
 * does; a value that will not be read is described by its type alone.
 *
 * @module
 */

/** What `read()` returns, or `fallback` when it throws (the thrown value is not touched). */
export function tryRead<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** "an object", "a function", "a number"…: what `typeof` says, which no trap can intercept. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  const t = typeof value;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/**
 * The message of a thrown value, for an error message of our own: its
 * `message` when that is a readable string, a primitive as text, anything
 * else by its type.
 */
export function messageOf(value: unknown): string {
  if (typeof value === "object" && value !== null || typeof value === "function") {
    const message = tryRead(() => (value as { message?: unknown }).message, undefined);
    return typeof message === "string" ? message : `${kindOf(value)} that cannot be read`;
  }
  // String() of a primitive (symbols included) runs no user code.
  return String(value);
}

/**
 * The `then` method of `value` when it is a thenable, else `undefined`.
 * Reading it may run a getter: what that throws is thrown, as `await`
 * would reject with it.
 */
export function thenOf(value: unknown): ((...args: unknown[]) => unknown) | undefined {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  const then = (value as { then?: unknown }).then;
  return typeof then === "function" ? then as (...args: unknown[]) => unknown : undefined;
}

/** How a process prints a value thrown at its top level: the stack of an `Error`, else `Uncaught <value>`. */
export function printableThrown(value: unknown): string {
  const stack = tryRead(() => (value instanceof Error ? value.stack : undefined), undefined);
  if (typeof stack === "string") return stack;
  return `Uncaught ${tryRead(() => String(value), kindOf(value))}`;
}
