/**
 * The submit-side check of a function shipped by source: is its source a
 * self-contained function expression, and what does it refer to that it
 * does not define itself?
 *
 * Uses a real parser (acorn) and scope analysis (eslint-scope): the
 * unresolved references (`globalScope.through`) of `(<source>)` are the
 * function's free variables. Only the submitting side imports this module;
 * workers never do (it is the heaviest part of function shipping).
 *
 * The parser loads on the first check, not when skypool is imported: it
 * costs more than the rest of the package's import together. The load is
 * synchronous (`createRequire`), because shipping a function is: `pool.map`
 * refuses a closure at the call, as CPython's pickling does. A pool starts
 * loading it while its workers boot ({@link preloadParser}), so the first
 * map does not pay for it either.
 *
 * @module
 */
import type * as Acorn from "npm:acorn@^8.15.0";
import type * as EslintScope from "npm:eslint-scope@^8.4.0";
import { nodeModule } from "../runtime/builtins.ts";
import { unrefTimer } from "../runtime/unref_timer.ts";
import { COMPILER_HELPER_NAMES } from "./compiler_helpers.ts";

interface ParserTools {
  parse: typeof Acorn.parse;
  analyze: typeof EslintScope.analyze;
}

let tools: ParserTools | undefined;

function parserTools(): ParserTools {
  if (tools === undefined) {
    const require = nodeModule().createRequire(import.meta.url);
    tools = { parse: require("acorn").parse, analyze: require("eslint-scope").analyze };
  }
  return tools;
}

/**
 * Loads the parser on a later turn of the event loop, if it is not loaded
 * yet, and runs it once: a pool calls this when it starts, so the load and
 * the parser's compilation overlap the workers' boot instead of delaying
 * the first `map`. Never throws; a load that fails
 * here fails again, with its error, at the first check.
 *
 * @example
 * ```ts
 * import { preloadParser } from "./src/task/free_variables.ts";
 * preloadParser();
 * ```
 */
export function preloadParser(): void {
  if (tools !== undefined) return;
  unrefTimer(setTimeout(() => {
    try {
      parserTools();
      // One small analysis compiles the parser's functions now (V8 compiles
      // each on its first call): the first shipped function's check then
      // takes ~0.3 ms instead of ~3.
      analyseFunctionSource("(a, b) => { const c = [a, b]; return c.map((x) => x + 1); }");
    } catch {
      // reported by the first check that needs the parser
    }
  }, 0));
}

/**
 * Free names a shipped function may use although the submitting runtime
 * lacks them: the globals that exist in only one of Deno and Node, so a
 * function written for either (`typeof Deno !== "undefined" ? … : process…`)
 * can be shipped from both.
 */
const CROSS_RUNTIME_GLOBALS = new Set([
  "Deno",
  "process",
  "Buffer",
  "global",
  "self",
  "setImmediate",
  "clearImmediate",
  "navigator",
]);

/** Hints for free names that are almost always a mistake. */
const HINTS: Record<string, string> = {
  require: "`require` does not exist in workers, which run ES modules: use `await import(…)`",
  arguments: "an arrow function has no `arguments` of its own: use a rest parameter `(...args) =>`",
  module: "CommonJS module variables do not exist in workers",
  exports: "CommonJS module variables do not exist in workers",
  __dirname: "CommonJS module variables do not exist in workers",
  __filename: "CommonJS module variables do not exist in workers",
};

/** Why a function source cannot be shipped, or `undefined` if it can. */
export type SourceVerdict = string | undefined;

/**
 * The verdict on a function source: why it cannot be shipped, or the
 * compiler helpers (`__awaiter`, `__name`…) it calls without defining.
 */
export type SourceAnalysis = { refusal: string } | { helpers: string[] };

interface AstNode {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

function parseExpression(source: string): AstNode | Error {
  try {
    // The newline keeps a trailing line comment from swallowing the parenthesis.
    return parserTools().parse(`(${source}\n)`, { ecmaVersion: "latest", sourceType: "module", ranges: true }) as unknown as AstNode;
  } catch (err) {
    return err as Error;
  }
}

function parses(code: string): boolean {
  try {
    parserTools().parse(code, { ecmaVersion: "latest", sourceType: "module" });
    return true;
  } catch {
    return false;
  }
}

/** What a source that is not an expression is: a method, getter or setter (of an object or class)? */
function describeNonExpression(source: string): string | undefined {
  if (!parses(`({${source}\n})`) && !parses(`(class {${source}\n})`)) return undefined;
  if (/^(?:static\s+)?get[\s[]/.test(source)) return "a getter";
  if (/^(?:static\s+)?set[\s[]/.test(source)) return "a setter";
  return "a method (`name() {…}` of an object or class)";
}

function isNode(v: unknown): v is AstNode {
  return typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string";
}

/**
 * Finds `this` that the function does not own (an arrow function's `this`
 * is the enclosing scope's) and `import.meta` (the defining module's).
 */
function findForeignThis(fn: AstNode): string[] {
  const found: string[] = [];
  const visit = (node: AstNode, ownsThis: boolean): void => {
    if (node.type === "ThisExpression" && !ownsThis) {
      if (!found.includes("this")) found.push("this");
      return;
    }
    if (node.type === "MetaProperty") {
      const meta = node.meta as { name?: string } | undefined;
      if (meta?.name === "import" && !found.includes("import.meta")) found.push("import.meta");
      return;
    }
    const owns = ownsThis || node.type === "FunctionExpression" || node.type === "FunctionDeclaration" ||
      node.type === "ClassBody";
    for (const key in node) {
      if (key === "type" || key === "start" || key === "end" || key === "loc" || key === "range") continue;
      const child = node[key];
      if (Array.isArray(child)) {
        for (const c of child) if (isNode(c)) visit(c, owns);
      } else if (isNode(child)) visit(child, owns);
    }
  };
  // The shipped function owns its `this` only if it is not an arrow function.
  visit(fn, false);
  return found;
}

/** The identifiers that are called directly (`name(…)`), the only way compilers use their helpers. */
function calleeIdentifiers(root: AstNode): Set<AstNode> {
  const callees = new Set<AstNode>();
  const visit = (node: AstNode): void => {
    if (node.type === "CallExpression" && isNode(node.callee) && node.callee.type === "Identifier") callees.add(node.callee);
    for (const key in node) {
      if (key === "type" || key === "start" || key === "end" || key === "loc" || key === "range") continue;
      const child = node[key];
      if (Array.isArray(child)) {
        for (const c of child) if (isNode(c)) visit(c);
      } else if (isNode(child)) visit(child);
    }
  };
  visit(root);
  return callees;
}

function listNames(names: string[]): string {
  const quoted = names.map((n) => `\`${n}\``);
  return quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
}

/**
 * Checks a function's source (`Function.prototype.toString`) for shipping.
 * Returns why it cannot be shipped, or `undefined` when it can (see
 * {@link analyseFunctionSource} for what is allowed).
 *
 * @example
 * ```ts
 * import { checkFunctionSource } from "./src/task/free_variables.ts";
 * console.assert(checkFunctionSource("(x) => Math.max(x, 0)") === undefined);
 * console.assert(checkFunctionSource("(x) => x * factor")!.includes("`factor`"));
 * ```
 */
export function checkFunctionSource(source: string): SourceVerdict {
  const analysis = analyseFunctionSource(source);
  return "refusal" in analysis ? analysis.refusal : undefined;
}

/**
 * Analyses a function's source for shipping: why it cannot be shipped, or
 * which compiler helpers it calls.
 *
 * Allowed: parameters (destructured, defaults), locals, nested functions
 * and classes, `arguments` of a `function`, `this` of a `function` (it is
 * `undefined` in the worker, as in a plain call), dynamic `import()`,
 * globals — those of the submitting runtime plus `Deno`, `process`,
 * `Buffer`, `global`, `self`, `setImmediate`, `clearImmediate`,
 * `navigator` — and the helpers tsc, esbuild and Babel/SWC inject
 * (`compiler_helpers.ts`) where they are only called, as compilers call
 * them. Refused: any other free name (a binding from an enclosing scope),
 * an arrow function's `this`, `import.meta`, classes, methods, getters and
 * setters, generator functions.
 *
 * @example
 * ```ts
 * import { analyseFunctionSource } from "./src/task/free_variables.ts";
 * const tscAsync = "function (x) { return __awaiter(this, void 0, void 0, function* () { return x; }); }";
 * console.assert((analyseFunctionSource(tscAsync) as { helpers: string[] }).helpers[0] === "__awaiter");
 * console.assert("refusal" in analyseFunctionSource("(x) => x * factor"));
 * ```
 */
export function analyseFunctionSource(source: string): SourceAnalysis {
  const refuse = (refusal: string) => ({ refusal });
  if (/^class[\s{]/.test(source)) return refuse("it is a class (ship a function, or task(moduleUrl, exportName))");
  const ast = parseExpression(source);
  if (ast instanceof Error) {
    const what = describeNonExpression(source);
    if (what !== undefined) {
      return refuse(
        `it is ${what}, whose source is not a standalone function: pass an arrow function or a \`function\` expression, or task(moduleUrl, exportName)`,
      );
    }
    return refuse(`its source cannot be parsed as a function expression (${ast.message})`);
  }
  const body = ast.body as AstNode[];
  const fn = (body[0] as { expression?: AstNode } | undefined)?.expression;
  if (body.length !== 1 || fn === undefined) return refuse("its source is not a single function expression");
  if (fn.type === "ClassExpression") return refuse("it is a class (ship a function, or task(moduleUrl, exportName))");
  if (fn.type !== "FunctionExpression" && fn.type !== "ArrowFunctionExpression") {
    return refuse("its source is not a function expression");
  }
  if (fn.generator === true) {
    return refuse("it is a generator function, whose result (a generator) cannot be sent back: return an array instead");
  }

  const scopes = parserTools().analyze(ast as never, { ecmaVersion: 2024, sourceType: "module" });
  const refs = [...scopes.globalScope.through].sort((a, b) => a.identifier.start - b.identifier.start);
  const callees = refs.some((r) => COMPILER_HELPER_NAMES.has(r.identifier.name)) ? calleeIdentifiers(fn) : new Set();
  const byName = new Map<string, typeof refs>();
  for (const ref of refs) {
    const name = ref.identifier.name;
    if (name in globalThis || CROSS_RUNTIME_GLOBALS.has(name)) continue;
    byName.set(name, [...(byName.get(name) ?? []), ref]);
  }
  const free: string[] = [];
  const helpers: string[] = [];
  for (const [name, uses] of byName) {
    const isHelper = COMPILER_HELPER_NAMES.has(name) &&
      uses.every((r) => r.isReadOnly() && callees.has(r.identifier as unknown as AstNode));
    (isHelper ? helpers : free).push(name);
  }
  const foreign = findForeignThis(fn);
  if (free.length === 0 && foreign.length === 0) return { helpers: helpers.sort() };

  const parts: string[] = [];
  if (free.length > 0) {
    parts.push(`it refers to ${listNames(free)} from an enclosing scope`);
  }
  if (foreign.includes("this")) parts.push("it uses `this` of the enclosing scope (an arrow function has no `this` of its own)");
  if (foreign.includes("import.meta")) parts.push("it uses `import.meta` of the module it was written in");
  const hints = free.filter((n) => n in HINTS).map((n) => HINTS[n]);
  const advice = "a shipped function runs in another process: pass such values as arguments, " +
    "or ship a module export with task(moduleUrl, exportName)";
  return refuse(`${parts.join("; ")} (${[...hints, advice].join("; ")})`);
}
