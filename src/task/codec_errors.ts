/**
 * How an `Error` crosses a process boundary: what is read from it on the
 * sending side, and which class it becomes on the receiving side.
 *
 * - Built-in classes (`Error`, `TypeError`, `RangeError`, `SyntaxError`,
 *   `ReferenceError`, `EvalError`, `URIError`, `AggregateError`) come back as
 *   themselves, skypool's own classes (`src/errors.ts`) as themselves, any
 *   other class (a user's `class MyErr extends Error`, `DOMException`, …) as
 *   a {@link RemoteError} whose `remoteName` is the original name.
 * - `message`, `name` (when it differs from the class's), `cause`
 *   (recursively, any value), own enumerable fields (`code`, `errno`, …)
 *   and `AggregateError#errors` travel; `.stack` becomes the *remote* stack,
 *   since the local one would only show the decoder.
 *
 * @module
 */
import {
  BrokenBarrierError,
  EOFError,
  QueueEmptyError,
  QueueFullError,
  RemoteError,
  SerializationError,
  SkypoolError,
  StateError,
  TimeoutError,
  WorkerLostError,
} from "../errors.ts";

/** Which family an error's class belongs to (first element of its record). */
export const ErrorKind = { Builtin: 0, Skypool: 1, Other: 2 } as const;

type ErrorClass = new (message?: string) => Error;

const BUILTIN: Record<string, ErrorClass> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError: AggregateError as unknown as ErrorClass,
};

const SKYPOOL: Record<string, ErrorClass> = {
  SkypoolError,
  TimeoutError,
  BrokenBarrierError,
  QueueEmptyError,
  QueueFullError,
  StateError,
  SerializationError,
  RemoteError: RemoteError as unknown as ErrorClass,
  WorkerLostError,
  EOFError,
};

const builtinByProto = new Map<object, string>(Object.entries(BUILTIN).map(([n, c]) => [c.prototype, n]));
const skypoolByProto = new Map<object, string>(Object.entries(SKYPOOL).map(([n, c]) => [c.prototype, n]));

/** Properties carried in the header, never among the fields. */
const HEADER_KEYS = new Set(["name", "message", "stack", "cause"]);

/** The header of an error record: everything needed to create the object. */
export interface ErrorHeader {
  kind: number;
  cls: string;
  name: string;
  message: string;
  stack: string | null;
}

/** Reads the header of `err` (may run user getters, which may throw). */
export function errorHeader(err: Error): ErrorHeader {
  const proto = Object.getPrototypeOf(err);
  let kind: number = ErrorKind.Other;
  let cls = builtinByProto.get(proto);
  if (cls !== undefined) kind = ErrorKind.Builtin;
  else {
    cls = skypoolByProto.get(proto);
    if (cls !== undefined) kind = ErrorKind.Skypool;
    else {
      const ctor = proto === null ? undefined : Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
      cls = typeof ctor === "function" && typeof ctor.name === "string" ? ctor.name : "";
    }
  }
  const name = err.name;
  const message = err.message;
  const stack = err.stack;
  return {
    kind,
    cls: cls ?? "",
    name: typeof name === "string" ? name : String(name),
    message: typeof message === "string" ? message : message === undefined ? "" : String(message),
    stack: typeof stack === "string" ? stack : null,
  };
}

/** The own enumerable fields of `err` that travel (everything but the header keys). */
export function errorFieldKeys(err: Error): string[] {
  const keys = Object.keys(err);
  let out: string[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    if (HEADER_KEYS.has(keys[i])) {
      out ??= keys.slice(0, i);
    } else if (out !== undefined) out.push(keys[i]);
  }
  return out ?? keys;
}

/** Whether `err` carries a `cause` of its own (even `undefined`). */
export function hasOwnCause(err: Error): boolean {
  return Object.prototype.hasOwnProperty.call(err, "cause");
}

/** The `errors` list of an AggregateError, or `null`. */
export function aggregateErrors(err: Error): unknown[] | null {
  if (!(err instanceof AggregateError)) return null;
  const errors = (err as AggregateError).errors;
  return Array.isArray(errors) ? errors : null;
}

/**
 * The name a non-built-in error is reported under: its `name`, unless that
 * is just the name inherited from a built-in parent (`class MyErr extends
 * Error {}` keeps `name === "Error"`), then its class name.
 */
export function remoteNameOf(cls: string, name: string): string {
  if (cls !== "" && (name === "" || (name in BUILTIN && name !== cls))) return cls;
  return name !== "" ? name : "Error";
}

function define(target: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable });
}

/** Creates the error object for a header (without cause, fields or errors). */
export function createError(h: ErrorHeader): Error {
  const limit = Error.stackTraceLimit;
  // The local stack would show the decoder, and capturing it is the costliest part.
  Error.stackTraceLimit = 0;
  let err: Error;
  try {
    const Builtin = h.kind === ErrorKind.Builtin ? BUILTIN[h.cls] : undefined;
    const Own = h.kind === ErrorKind.Skypool ? SKYPOOL[h.cls] : undefined;
    if (Builtin !== undefined) {
      err = h.cls === "AggregateError" ? new AggregateError([], h.message) : new Builtin(h.message);
    } else if (Own !== undefined) {
      err = Own === (RemoteError as unknown) ? new RemoteError("Error", h.message) : new Own(h.message);
    } else {
      const remoteName = remoteNameOf(h.cls, h.name);
      err = new RemoteError(remoteName, h.message, h.stack ?? "");
    }
  } finally {
    Error.stackTraceLimit = limit;
  }
  if (!(err instanceof RemoteError) || h.kind === ErrorKind.Skypool) {
    if (err.name !== h.name) err.name = h.name;
  }
  const stack = h.stack ?? (h.message === "" ? h.name : `${h.name}: ${h.message}`);
  define(err, "stack", stack, false);
  return err;
}

/** Adds what an error's body carries: `cause`, own fields, `errors`. */
export function fillError(err: Error, kind: number, hasCause: boolean, cause: unknown, fields: unknown[], errors: unknown): void {
  if (hasCause) define(err, "cause", cause, false);
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const key = fields[i];
    if (typeof key !== "string") throw new SerializationError("cannot decode: malformed error fields");
    // A RemoteError's own remoteName/remoteStack describe the remote error; a
    // same-named field of a foreign class must not overwrite them.
    if (kind === ErrorKind.Other && (key === "remoteName" || key === "remoteStack")) continue;
    define(err, key, fields[i + 1], true);
  }
  if (Array.isArray(errors)) define(err, "errors", errors, false);
}

/** Validates a decoded header array (`[kind, cls, name, message, stack]` from `offset`). */
export function headerFrom(a: unknown[], offset: number): ErrorHeader {
  const kind = a[offset], cls = a[offset + 1], name = a[offset + 2], message = a[offset + 3], stack = a[offset + 4];
  if (
    (kind !== 0 && kind !== 1 && kind !== 2) || typeof cls !== "string" || typeof name !== "string" ||
    typeof message !== "string" || (stack !== null && typeof stack !== "string")
  ) {
    throw new SerializationError("cannot decode: malformed error record");
  }
  return { kind, cls, name, message, stack };
}
