/**
 * The worker side of function shipping: turns a {@link FunctionRef} back
 * into something callable. Kept free of the parser and of node:crypto so a
 * worker starts fast; `function_ref.ts` (the submit side) re-exports it.
 *
 * @module
 */
import { SerializationError } from "../errors.ts";

/**
 * What travels to a worker: a function's source, or a module reference.
 * `id` is stable for one source (or one module export), so workers compile
 * or import each function once.
 */
export type FunctionRef =
  | { kind: "source"; id: string; source: string; name?: string }
  | { kind: "module"; id: string; url: string; exportName: string };

type Fn = (...args: unknown[]) => unknown;

/** Compiled sources kept per id; the oldest are dropped beyond this many. */
const MAX_COMPILED = 512;
const compiled = new Map<string, Fn>();
const modules = new Map<string, Promise<Record<string, unknown>>>();

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  return typeof v === "undefined" ? "undefined" : `a ${typeof v}`;
}

function compile(ref: { id: string; source: string; name?: string }): Fn {
  let fn = compiled.get(ref.id);
  if (fn !== undefined) return fn;
  let made: unknown;
  try {
    // Strict, like the ES module the function was written in. The newline keeps a
    // trailing line comment from swallowing the parenthesis.
    made = new Function(`"use strict";\nreturn (${ref.source}\n);`)();
  } catch (err) {
    throw new SerializationError(
      `cannot compile shipped function${ref.name ? ` ${JSON.stringify(ref.name)}` : ""}: ${(err as Error)?.message ?? err}`,
      { cause: err },
    );
  }
  if (typeof made !== "function") {
    throw new SerializationError(`shipped source is not a function (it evaluates to ${describe(made)})`);
  }
  fn = made as Fn;
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(ref.id, fn);
  return fn;
}

async function importModule(ref: { url: string; exportName: string }): Promise<Fn> {
  let p = modules.get(ref.url);
  if (p === undefined) {
    p = import(ref.url) as Promise<Record<string, unknown>>;
    modules.set(ref.url, p);
    // A failed import may succeed later (a file written meanwhile): do not cache failures.
    p.catch(() => {
      if (modules.get(ref.url) === p) modules.delete(ref.url);
    });
  }
  const mod = await p;
  if (!(ref.exportName in mod)) {
    const names = Object.keys(mod);
    throw new TypeError(
      `module ${ref.url} has no export named ${JSON.stringify(ref.exportName)}` +
        (names.length > 0 ? ` (it exports ${names.map((n) => JSON.stringify(n)).join(", ")})` : ""),
    );
  }
  const fn = mod[ref.exportName];
  if (typeof fn !== "function") {
    throw new TypeError(`export ${JSON.stringify(ref.exportName)} of ${ref.url} is not a function (it is ${describe(fn)})`);
  }
  return fn as Fn;
}

/**
 * Worker side: turns a FunctionRef into a callable. A source is compiled
 * once per `id` (strict mode, no access to the worker's own scope); a
 * module is imported once per URL.
 *
 * @example
 * ```ts
 * import { loadFunction } from "./src/task/function_loader.ts";
 * const fn = await loadFunction({ kind: "source", id: "s:doc", source: "(x) => x * 2" });
 * console.assert(fn(21) === 42);
 * const basename = await loadFunction({ kind: "module", id: "m:doc", url: "node:path", exportName: "basename" });
 * console.assert(basename("/a/b.txt") === "b.txt");
 * ```
 * @throws {TypeError} (rejects) for a malformed ref, a module without that
 *   export, or an export that is not a function; whatever `import()` throws
 *   for a module that cannot be loaded.
 * @throws {SerializationError} (rejects) for a source that does not compile
 *   to a function.
 */
export async function loadFunction(ref: FunctionRef): Promise<(...args: unknown[]) => unknown> {
  if (ref === null || typeof ref !== "object" || typeof ref.id !== "string") {
    throw new TypeError("loadFunction: expected a FunctionRef");
  }
  if (ref.kind === "source") {
    if (typeof ref.source !== "string") throw new TypeError("loadFunction: a source ref needs a string source");
    return compile(ref);
  }
  if (ref.kind === "module") {
    if (typeof ref.url !== "string" || typeof ref.exportName !== "string") {
      throw new TypeError("loadFunction: a module ref needs a string url and exportName");
    }
    return await importModule(ref);
  }
  throw new TypeError(`loadFunction: unknown ref kind ${JSON.stringify((ref as { kind?: unknown }).kind)}`);
}
