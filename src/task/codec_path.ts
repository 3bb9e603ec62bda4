/**
 * Names what the codec refused and where: `args[0].callback: a function`.
 *
 * The writer keeps no path while it writes (that would tax every value);
 * when it gives up, this walk goes over the value again, in the writer's
 * order, keeping the path, and reports the first thing the codec cannot
 * carry. It runs only on the error path.
 *
 * @module
 */
import { handleForProto } from "./codec_handles.ts";
import { aggregateErrors, errorFieldKeys, hasOwnCause } from "./codec_errors.ts";
import { eagerBufferPrototype, isBufferPrototype } from "../runtime/node_buffer.ts";

/** What was refused, and where. */
export interface Problem {
  path: string;
  reason: string;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function keySegment(key: string): string {
  return IDENT.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function showKey(key: unknown): string {
  switch (typeof key) {
    case "string":
      return JSON.stringify(key.length > 40 ? key.slice(0, 40) + "…" : key);
    case "number":
    case "boolean":
      return String(key);
    case "bigint":
      return `${key}n`;
    case "undefined":
      return "undefined";
    default:
      return key === null ? "null" : "…";
  }
}

const TYPED_PROTOS = new Set<object>();
for (
  const name of [
    "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
    "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "DataView",
  ]
) {
  const ctor = (globalThis as Record<string, unknown>)[name];
  if (typeof ctor === "function") TYPED_PROTOS.add(ctor.prototype as object);
}
// On Deno, Buffer's prototype is recognised when met (see isTyped): loading it here would cost every worker's start.
if (eagerBufferPrototype !== undefined) TYPED_PROTOS.add(eagerBufferPrototype);
const LEAF_PROTOS = new Set<object>([Date.prototype, RegExp.prototype, ArrayBuffer.prototype, ...TYPED_PROTOS]);

/** Whether `proto` is a typed array's, a DataView's or a Buffer's. */
function isTyped(proto: object): boolean {
  return TYPED_PROTOS.has(proto) || (eagerBufferPrototype === undefined && isBufferPrototype(proto));
}

const NAMED: [unknown, string][] = [
  ["WeakMap", "a WeakMap"],
  ["WeakSet", "a WeakSet"],
  ["WeakRef", "a WeakRef"],
  ["FinalizationRegistry", "a FinalizationRegistry"],
  ["Promise", "a Promise (await it and send the result)"],
  ["SharedArrayBuffer", "a SharedArrayBuffer (shared memory cannot cross processes)"],
  ["String", "a String object (send the primitive string)"],
  ["Number", "a Number object (send the primitive number)"],
  ["Boolean", "a Boolean object (send the primitive boolean)"],
  ["BigInt", "a BigInt object (send the primitive bigint)"],
  ["Symbol", "a Symbol object"],
  ["Blob", "a Blob (send its bytes: await blob.arrayBuffer())"],
];
const NAMED_PROTOS = new Map<object, string>();
for (const [name, reason] of NAMED) {
  const ctor = (globalThis as Record<string, unknown>)[name as string];
  if (typeof ctor === "function") NAMED_PROTOS.set(ctor.prototype as object, reason);
}
const BASES: [object, string][] = [
  [Array.prototype, "Array"],
  [Map.prototype, "Map"],
  [Set.prototype, "Set"],
  [Date.prototype, "Date"],
  [RegExp.prototype, "RegExp"],
];

/** Why an object with prototype `proto` (not plain, not a supported built-in) is refused. */
export function describeObject(v: object, proto: object): string {
  const named = NAMED_PROTOS.get(proto);
  if (named !== undefined) return named;
  if (isTyped(proto)) return "a view of a SharedArrayBuffer (shared memory cannot cross processes)";
  const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
  const name = typeof ctor === "function" && ctor.name ? ctor.name : "";
  for (const [base, baseName] of BASES) {
    if (Object.prototype.isPrototypeOf.call(base, v)) {
      return `an instance of ${name ? `class ${name}` : "a class"} (a subclass of ${baseName}; only ${baseName} itself travels)`;
    }
  }
  if (Object.prototype.toString.call(v) === "[object Generator]") return "a generator object";
  return name ? `an instance of class ${name} (only plain objects, arrays and built-in data types travel)` : "an object with a custom prototype";
}

/** Why a primitive-or-function value is refused, or `undefined` if it travels. */
function describePrimitive(v: unknown): string | undefined {
  if (typeof v === "function") {
    const src = Function.prototype.toString.call(v);
    return /^class[\s{]/.test(src) ? "a class" : "a function";
  }
  if (typeof v === "symbol") return "a symbol";
  return undefined;
}

/**
 * Finds the first value under `value` the codec cannot carry, with its
 * path from `root`; `undefined` if there is none.
 */
export function findProblem(value: unknown, root: string): Problem | undefined {
  const path: string[] = [root];
  const visited = new Set<object>();
  const found = (reason: string): Problem => ({ path: path.join(""), reason });

  const read = (obj: object, key: string | number): { value: unknown } | Problem => {
    try {
      return { value: (obj as Record<string | number, unknown>)[key] };
    } catch (err) {
      path.push(typeof key === "number" ? `[${key}]` : keySegment(key));
      const p = found(`reading it threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      path.pop();
      return p;
    }
  };

  const walk = (v: unknown): Problem | undefined => {
    if (typeof v !== "object" || v === null) {
      const reason = describePrimitive(v);
      return reason === undefined ? undefined : found(reason);
    }
    if (visited.has(v)) return undefined;
    visited.add(v);
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      for (const key of Object.keys(v)) {
        const r = read(v, key);
        if ("path" in r) return r;
        path.push(keySegment(key));
        const p = walk(r.value);
        path.pop();
        if (p) return p;
      }
      return undefined;
    }
    if (proto === Array.prototype && Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(`[${i}]`);
        const p = walk(v[i]);
        path.pop();
        if (p) return p;
      }
      return undefined;
    }
    if (proto === Map.prototype) {
      let i = 0;
      for (const [key, item] of v as Map<unknown, unknown>) {
        path.push(`.keys()[${i}]`);
        let p = walk(key);
        path.pop();
        if (p) return p;
        path.push(`.get(${showKey(key)})`);
        p = walk(item);
        path.pop();
        if (p) return p;
        i++;
      }
      return undefined;
    }
    if (proto === Set.prototype) {
      let i = 0;
      for (const item of v as Set<unknown>) {
        path.push(`.values()[${i++}]`);
        const p = walk(item);
        path.pop();
        if (p) return p;
      }
      return undefined;
    }
    const typedProto = isTyped(proto);
    if (typedProto || LEAF_PROTOS.has(proto)) {
      if (typedProto) {
        const b = (v as ArrayBufferView).buffer;
        if (typeof SharedArrayBuffer === "function" && b instanceof SharedArrayBuffer) {
          return found("a view of a SharedArrayBuffer (shared memory cannot cross processes)");
        }
      }
      return undefined;
    }
    if (v instanceof Error) {
      try {
        void v.name, v.message, v.stack;
      } catch (err) {
        return found(`reading the error threw ${err instanceof Error ? err.message : String(err)}`);
      }
      if (hasOwnCause(v)) {
        const r = read(v, "cause");
        if ("path" in r) return r;
        path.push(".cause");
        const p = walk(r.value);
        path.pop();
        if (p) return p;
      }
      for (const key of errorFieldKeys(v)) {
        const r = read(v, key);
        if ("path" in r) return r;
        path.push(keySegment(key));
        const p = walk(r.value);
        path.pop();
        if (p) return p;
      }
      const errors = aggregateErrors(v);
      if (errors !== null) {
        path.push(".errors");
        const p = walk(errors);
        path.pop();
        if (p) return p;
      }
      return undefined;
    }
    const h = handleForProto(proto);
    if (h !== undefined) {
      let record: unknown;
      try {
        record = (h.toRecord as (x: object) => unknown)(v);
      } catch (err) {
        return found(`its ${h.kind} handle record could not be made: ${err instanceof Error ? err.message : String(err)}`);
      }
      path.push(`<${h.kind} record>`);
      const p = walk(record);
      path.pop();
      return p;
    }
    return found(describeObject(v, proto));
  };

  return walk(value);
}
