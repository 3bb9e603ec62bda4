// TEMPORARY STUB (to be replaced by the function shipping work): API shape only.
import { SerializationError } from "../errors.ts";

/** A reference to an exported function of a module: `task(url, name)`. */
export class TaskRef {
  constructor(readonly url: string, readonly exportName: string) {}
}

/** A function as a task: a self-contained plain function or a module reference. */
// deno-lint-ignore no-explicit-any
export type TaskFn<A extends unknown[] = any[], R = unknown> = ((...args: A) => R | Promise<R>) | TaskRef;

/** What travels to a worker: a function's source, or a module reference. */
export type FunctionRef =
  | { kind: "source"; id: string; source: string }
  | { kind: "module"; id: string; url: string; exportName: string };

/** A module reference: the worker imports `moduleUrl` and calls `exportName`. */
export function task(moduleUrl: string | URL, exportName = "default"): TaskRef {
  return new TaskRef(String(moduleUrl), exportName);
}

/** Checks and packages a function for shipping. @throws {SerializationError} */
export function shipFunction(fn: TaskFn): FunctionRef {
  if (fn instanceof TaskRef) return { kind: "module", id: `m:${fn.url}#${fn.exportName}`, url: fn.url, exportName: fn.exportName };
  if (typeof fn !== "function") throw new TypeError("not a function");
  const source = Function.prototype.toString.call(fn);
  if (source.includes("[native code]")) throw new SerializationError("native function");
  return { kind: "source", id: `s:${source}`, source };
}

/** Worker side: turns a FunctionRef into a callable, cached by id. */
export async function loadFunction(ref: FunctionRef): Promise<(...args: unknown[]) => unknown> {
  if (ref.kind === "module") {
    const mod = await import(ref.url);
    return mod[ref.exportName];
  }
  return new Function(`return (${ref.source})`)();
}
