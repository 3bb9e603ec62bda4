/**
 * The worker side of function shipping: turns a {@link FunctionRef} back
 * into something callable. Kept free of the parser and of node:crypto so a
 * worker starts fast; `function_ref.ts` (the submit side) re-exports it.
 *
 * @module
 */
import { SerializationError } from "../errors.ts";
import { compilerHelpers } from "./compiler_helpers.ts";

/**
 * Where a shipped function was written: the URL of its file and the
 * 1-based line and column its source starts at. The worker compiles the
 * source at that position under that name, so its stack frames read like
 * local ones.
 */
export interface SourceOrigin {
  /** The URL of the file the function was written in. */
  url: string;
  /** The 1-based line its source starts at. */
  line: number;
  /** The 1-based column its source starts at. */
  column: number;
}

/**
 * What travels to a worker: a function's source, a module reference, or
 * an export of a bundle (`bundle.ts`) the worker has imported by its hash.
 * `id` is stable for one source and helper set (or one module export), so
 * workers compile or import each function once. `helpers` names the
 * compiler helpers the source calls (`compiler_helpers.ts`); `origin` says
 * where it was written.
 */
export type FunctionRef =
  | { kind: "source"; id: string; source: string; name?: string; helpers?: string[]; origin?: SourceOrigin }
  | { kind: "module"; id: string; url: string; exportName: string }
  | { kind: "bundle"; id: string; hash: string; exportName: string };

type SourceRef = Extract<FunctionRef, { kind: "source" }>;

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

/** Lines of padding beyond which an origin is ignored rather than reproduced. */
const MAX_ORIGIN_LINE = 1_000_000;

function isPosition(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= MAX_ORIGIN_LINE;
}

/**
 * The script that evaluates to the shipped function: helpers as parameters
 * of a strict wrapper, and, with an origin, the source padded to its line
 * and column and named by a `sourceURL`, so V8 (Node and Deno) reports its
 * frames at the user's file and line.
 */
function script(ref: SourceRef): string {
  const head = `(function (${(ref.helpers ?? []).join(", ")}) { "use strict"; return (`;
  const o = ref.origin;
  // The newline before the parenthesis keeps a trailing line comment from swallowing it.
  if (o === undefined || typeof o.url !== "string" || /[\s]/.test(o.url) || !isPosition(o.line) || !isPosition(o.column)) {
    return `${head}${ref.source}\n); })`;
  }
  const indent = Math.max(0, o.column - 1 - (o.line === 1 ? head.length : 0));
  return `${head}${"\n".repeat(o.line - 1)}${" ".repeat(indent)}${ref.source}\n); })\n//# sourceURL=${o.url}`;
}

/** Compiles `ref` with `helpers` (the definitions of `ref.helpers`, which are known names) bound. */
function compile(ref: SourceRef, helpers: unknown[]): Fn {
  let made: unknown;
  try {
    // Indirect eval: global scope, so the function sees nothing of the worker's own.
    made = (0, eval)(script(ref))(...helpers);
  } catch (err) {
    throw new SerializationError(
      `cannot compile shipped function${ref.name ? ` ${JSON.stringify(ref.name)}` : ""}: ${(err as Error)?.message ?? err}`,
      { cause: err },
    );
  }
  if (typeof made !== "function") {
    throw new SerializationError(`shipped source is not a function (it evaluates to ${describe(made)})`);
  }
  const fn = made as Fn;
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
  return exported(await p, ref.exportName, ref.url);
}

function exported(mod: Record<string, unknown>, exportName: string, what: string): Fn {
  if (!(exportName in mod)) {
    const names = Object.keys(mod);
    throw new TypeError(
      `module ${what} has no export named ${JSON.stringify(exportName)}` +
        (names.length > 0 ? ` (it exports ${names.map((n) => JSON.stringify(n)).join(", ")})` : ""),
    );
  }
  const fn = mod[exportName];
  if (typeof fn !== "function") {
    throw new TypeError(`export ${JSON.stringify(exportName)} of ${what} is not a function (it is ${describe(fn)})`);
  }
  return fn as Fn;
}

/**
 * An export of a bundle this worker has imported with `importBundle`, or
 * wrote to its bundle folder before (`bundle_loader.ts` is loaded on first
 * use: it needs node:crypto).
 */
async function bundleExport(ref: { hash: string; exportName: string }): Promise<Fn> {
  const { importCachedBundle } = await import("./bundle_loader.ts");
  const mod = await importCachedBundle(ref.hash);
  if (mod === undefined) {
    throw new SerializationError(`bundle ${ref.hash} is not on this worker: importBundle(hash, code) it first`);
  }
  return exported(mod, ref.exportName, `bundle ${ref.hash}`);
}

/**
 * The function of a source ref already compiled in this process, without
 * waiting (`undefined` if it is not: use {@link loadFunction}). Lets a
 * batch of synchronous calls run without a microtask.
 *
 * @example
 * ```ts
 * import { compiledFunction } from "./src/task/function_loader.ts";
 * console.assert(compiledFunction({ kind: "module", id: "m", url: "file:///x.js", exportName: "f" }) === undefined);
 * ```
 */
export function compiledFunction(ref: FunctionRef): ((...args: unknown[]) => unknown) | undefined {
  return ref !== null && typeof ref === "object" && ref.kind === "source" ? compiled.get(ref.id) : undefined;
}

/**
 * Worker side: turns a FunctionRef into a callable. A source is compiled
 * once per `id` (strict mode, no access to the worker's own scope, the
 * compiler helpers it names in its scope, at its origin's file and line);
 * a module is imported once per URL; a bundle's export is taken from the
 * bundle `importBundle` imported (or wrote, before a restart) for its hash.
 *
 * @example
 * ```ts
 * import { loadFunction } from "./src/task/function_loader.ts";
 * const fn = await loadFunction({ kind: "source", id: "s:doc", source: "(x) => x * 2" });
 * console.assert(fn(21) === 42);
 * const basename = await loadFunction({ kind: "module", id: "m:doc", url: "node:path", exportName: "basename" });
 * console.assert(basename("/a/b.txt") === "b.txt");
 * ```
 * @throws {TypeError} (rejects) for a malformed ref (helpers that are not
 *   known compiler helpers among them), a module without that
 *   export, or an export that is not a function; whatever `import()` throws
 *   for a module that cannot be loaded.
 * @throws {SerializationError} (rejects) for a source that does not compile
 *   to a function, or a bundle ref whose bundle is not on this worker.
 */
export async function loadFunction(ref: FunctionRef): Promise<(...args: unknown[]) => unknown> {
  if (ref === null || typeof ref !== "object" || typeof ref.id !== "string") {
    throw new TypeError("loadFunction: expected a FunctionRef");
  }
  if (ref.kind === "source") {
    if (typeof ref.source !== "string") throw new TypeError("loadFunction: a source ref needs a string source");
    const names = ref.helpers ?? [];
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) {
      throw new TypeError("loadFunction: a source ref's helpers must be an array of names");
    }
    return compiled.get(ref.id) ?? compile(ref, names.length > 0 ? await compilerHelpers(names) : []);
  }
  if (ref.kind === "module") {
    if (typeof ref.url !== "string" || typeof ref.exportName !== "string") {
      throw new TypeError("loadFunction: a module ref needs a string url and exportName");
    }
    return await importModule(ref);
  }
  if (ref.kind === "bundle") {
    if (typeof ref.hash !== "string" || typeof ref.exportName !== "string") {
      throw new TypeError("loadFunction: a bundle ref needs a string hash and exportName");
    }
    return await bundleExport(ref);
  }
  throw new TypeError(`loadFunction: unknown ref kind ${JSON.stringify((ref as { kind?: unknown }).kind)}`);
}
