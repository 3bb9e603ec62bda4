/**
 * Function shipping, submit side: a task function is either a
 * self-contained plain function, shipped by its source, or a module
 * reference made by {@link task}.
 *
 * A plain function is checked once (the verdict is cached per function
 * object): its source is parsed and every name it uses but does not define
 * must be a global or a helper a compiler injected (`__awaiter`, `__name`…,
 * see `compiler_helpers.ts`; the worker binds their definitions), and the
 * ref records where the function was written (`source_origin.ts`) so remote
 * stacks name the user's file and line. Anything else — a closure
 * over an enclosing binding, a bound function, a class, a method — is a
 * `SerializationError` at submit time rather than a `ReferenceError` in a
 * worker. Built-in functions reachable from `globalThis` (`Math.sqrt`,
 * `parseInt`, `String`, …) are shipped by that name, as Python pickles
 * built-ins by reference.
 *
 * The worker side, {@link loadFunction}, lives in `function_loader.ts`
 * (re-exported here), which a worker imports without the parser.
 *
 * @module
 */
import { SerializationError } from "../errors.ts";
import { analyseFunctionSource } from "./free_variables.ts";
import type { FunctionRef } from "./function_loader.ts";
import { sourceOrigin } from "./source_origin.ts";
import { nodeCrypto, nodePath, nodeUrl } from "../runtime/builtins.ts";

export { type FunctionRef, loadFunction, type SourceOrigin } from "./function_loader.ts";

const MODULE_SCHEMES = new Set(["file:", "http:", "https:", "data:", "npm:", "jsr:", "node:"]);

function shortHash(text: string): string {
  return nodeCrypto().createHash("sha256").update(text).digest("base64url").slice(0, 22);
}

function normalizeModuleUrl(moduleUrl: unknown): string {
  let href: string;
  if (moduleUrl instanceof URL) href = moduleUrl.href;
  else if (typeof moduleUrl !== "string") {
    throw new TypeError(`task: moduleUrl must be a string or URL, got ${moduleUrl === null ? "null" : typeof moduleUrl}`);
  } else if (moduleUrl.length === 0) {
    throw new TypeError("task: moduleUrl is empty");
  } else if (nodePath().isAbsolute(moduleUrl)) {
    href = nodeUrl().pathToFileURL(moduleUrl).href;
  } else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(moduleUrl)) {
    try {
      href = new URL(moduleUrl).href;
    } catch {
      throw new TypeError(`task: moduleUrl ${JSON.stringify(moduleUrl)} is not a valid URL`);
    }
  } else {
    throw new TypeError(
      `task: moduleUrl ${JSON.stringify(moduleUrl)} is relative; workers would resolve it against their own ` +
        `location, not yours. Pass an absolute path or URL, e.g. new URL(${JSON.stringify(moduleUrl)}, import.meta.url)`,
    );
  }
  const scheme = href.slice(0, href.indexOf(":") + 1);
  if (!MODULE_SCHEMES.has(scheme)) {
    throw new TypeError(`task: a worker cannot import a ${scheme} URL (use one of ${[...MODULE_SCHEMES].join(" ")})`);
  }
  return href;
}

/**
 * A reference to an exported function of a module: the worker imports
 * `url` and calls the export `exportName`. Made by {@link task}.
 */
export class TaskRef {
  /** The absolute URL of the module (`file:`, `https:`, `npm:`, `jsr:`, `node:`, `data:`). */
  readonly url: string;
  /** The name of the export to call. */
  readonly exportName: string;
  #ref: FunctionRef | undefined;

  /**
   * A reference to export `exportName` of the module at `url` (as {@link task}).
   * @throws {TypeError} as {@link task}.
   */
  constructor(url: string | URL, exportName = "default") {
    this.url = normalizeModuleUrl(url);
    if (typeof exportName !== "string" || exportName.length === 0) {
      throw new TypeError("task: exportName must be a non-empty string");
    }
    this.exportName = exportName;
  }

  /** What travels to a worker. */
  get ref(): FunctionRef {
    return this.#ref ??= {
      kind: "module",
      id: "m:" + shortHash(`${this.url}#${this.exportName}`),
      url: this.url,
      exportName: this.exportName,
    };
  }

  /** `task(url, name)`, for messages. */
  toString(): string {
    return `task(${JSON.stringify(this.url)}, ${JSON.stringify(this.exportName)})`;
  }
}

/** A function as a task: a self-contained plain function or a module reference. */
// deno-lint-ignore no-explicit-any
export type TaskFn<A extends unknown[] = any[], R = unknown> = ((...args: A) => R | Promise<R>) | TaskRef;

/**
 * A module reference: workers import `moduleUrl` and call its export
 * `exportName`. This is the form for code that needs imports, closures or
 * shared module state. A path must be absolute (it is turned into a
 * `file:` URL); a relative one is refused because a worker would resolve it
 * against its own location — use `new URL("./work.ts", import.meta.url)`.
 *
 * @example
 * ```ts
 * import { task } from "./src/task/function_ref.ts";
 * const basename = task("node:path", "basename");
 * console.assert(basename.url === "node:path" && basename.exportName === "basename");
 * console.assert(task("/srv/jobs/work.ts").url === "file:///srv/jobs/work.ts");
 * ```
 * @throws {TypeError} if `moduleUrl` is not a string or URL, is empty or
 *   relative, or has a scheme a worker cannot import (`blob:`…), or if
 *   `exportName` is not a non-empty string.
 */
export function task(moduleUrl: string | URL, exportName = "default"): TaskRef {
  return new TaskRef(moduleUrl, exportName);
}

// ---------------------------------------------------------------------------
// Built-ins by name.

/** Namespaces whose native functions are shipped by name (`Math.sqrt`). */
const NAMESPACES = ["Math", "JSON", "Number", "String", "Object", "Array", "Reflect", "BigInt", "Date", "Symbol", "Atomics"];
/** Standard globals that a runtime may implement in JavaScript (Node's `fetch`) rather than natively. */
const STANDARD_GLOBALS = new Set([
  "fetch", "atob", "btoa", "structuredClone", "queueMicrotask", "setTimeout", "setInterval", "clearTimeout",
  "clearInterval", "setImmediate", "clearImmediate", "reportError",
]);
let builtinNames: WeakMap<object, string> | undefined;

function isNative(fn: unknown): boolean {
  return typeof fn === "function" && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

function builtinName(fn: object): string | undefined {
  if (builtinNames === undefined) {
    builtinNames = new WeakMap();
    const g = globalThis as Record<string, unknown>;
    for (const ns of NAMESPACES) {
      const obj = g[ns];
      if ((typeof obj !== "object" && typeof obj !== "function") || obj === null) continue;
      for (const key of Object.getOwnPropertyNames(obj)) {
        const d = Object.getOwnPropertyDescriptor(obj, key);
        if (isNative(d?.value) && /^[A-Za-z_$][\w$]*$/.test(key) && !builtinNames.has(d!.value)) {
          builtinNames.set(d!.value, `${ns}.${key}`);
        }
      }
    }
    // Global functions last, so `parseInt` wins over `Number.parseInt` (the same function).
    // User-defined globals are left out: workers would not have them.
    for (const key of Object.getOwnPropertyNames(globalThis)) {
      const d = Object.getOwnPropertyDescriptor(globalThis, key);
      if ((isNative(d?.value) || (STANDARD_GLOBALS.has(key) && typeof d?.value === "function")) && /^[A-Za-z_$][\w$]*$/.test(key)) {
        builtinNames.set(d!.value, key);
      }
    }
  }
  return builtinNames.get(fn);
}

// ---------------------------------------------------------------------------
// Shipping.

/** Per function object: its ref, or why it cannot be shipped. */
const verdicts = new WeakMap<object, FunctionRef | { reason: string }>();

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  return typeof v === "undefined" ? "undefined" : `a ${typeof v}`;
}

function judge(fn: (...args: never[]) => unknown): FunctionRef | { reason: string } {
  const source = Function.prototype.toString.call(fn);
  const name = typeof fn.name === "string" ? fn.name : "";
  const bound = name.startsWith("bound ") && isNative(fn);
  const label = bound
    ? (name === "bound " ? "a bound function" : `bound function ${JSON.stringify(name.slice(6))}`)
    : name ? `function ${JSON.stringify(name)}` : "an anonymous function";
  const refuse = (why: string) => ({ reason: `cannot ship ${label}: ${why}` });
  const builtin = builtinName(fn);
  if (builtin !== undefined) return { kind: "source", id: "s:" + shortHash(builtin), source: builtin, name: builtin };
  if (isNative(fn)) {
    if (bound) {
      return refuse("its bound `this` and arguments cannot travel; ship the original function and pass the arguments");
    }
    return refuse("it is a native function, which has no source to ship (use task(moduleUrl, exportName))");
  }
  const analysis = analyseFunctionSource(source);
  if ("refusal" in analysis) return refuse(analysis.refusal);
  const { helpers } = analysis;
  const origin = sourceOrigin(source);
  return {
    kind: "source",
    // The same source compiles differently with other helpers bound; the origin only names its frames.
    id: "s:" + shortHash(helpers.length > 0 ? `${source}\0${helpers.join(",")}` : source),
    source,
    ...(name ? { name } : {}),
    ...(helpers.length > 0 ? { helpers } : {}),
    ...(origin ? { origin } : {}),
  };
}

/**
 * Checks and packages a task function for shipping. The check runs once per
 * function object; later calls return the cached ref (or throw the cached
 * verdict).
 *
 * @example
 * ```ts
 * import { shipFunction, task } from "./src/task/function_ref.ts";
 * const ref = shipFunction(async (url: string) => (await fetch(url)).status);
 * console.assert(ref.kind === "source" && ref.id === shipFunction(async (url: string) => (await fetch(url)).status).id);
 * console.assert(shipFunction(task("node:path", "join")).kind === "module");
 * const factor = 3;
 * try {
 *   shipFunction((x: number) => x * factor);
 * } catch (err) {
 *   console.assert((err as Error).message.includes("`factor`"));
 * }
 * ```
 * @throws {TypeError} if `fn` is neither a function nor a {@link TaskRef}.
 * @throws {SerializationError} for a function that cannot be shipped: one
 *   that refers to a binding of an enclosing scope (the message names it),
 *   uses an arrow function's `this` or `import.meta`, a bound or native
 *   function (built-ins reachable from `globalThis` excepted), a class, a
 *   method, getter or setter, a generator function.
 */
export function shipFunction(fn: TaskFn): FunctionRef {
  if (fn instanceof TaskRef) return fn.ref;
  if (typeof fn !== "function") {
    throw new TypeError(`expected a function or task(moduleUrl, exportName), got ${describeValue(fn)}`);
  }
  let verdict = verdicts.get(fn);
  if (verdict === undefined) {
    verdict = judge(fn as (...args: never[]) => unknown);
    verdicts.set(fn, verdict);
  }
  if ("reason" in verdict) throw new SerializationError(verdict.reason);
  return verdict;
}
