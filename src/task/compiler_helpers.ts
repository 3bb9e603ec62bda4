/**
 * The helper functions compilers inject into the code they lower, and how
 * a worker gets them: a function compiled by tsc, esbuild (tsx) or
 * Babel/SWC calls helpers (`__awaiter`, `__name`, `_asyncToGenerator`…)
 * that live at the top of its file, so its source alone names them as free
 * variables. The submit side recognises these names (`free_variables.ts`),
 * the ref lists them, and the worker passes these definitions into the
 * function's scope (`function_loader.ts`).
 *
 * tsc's helpers come from `tslib`, the package tsc's own `importHelpers`
 * uses (loaded only when a function needs one); esbuild's and Babel's are
 * re-implemented in `esbuild_helpers.ts` and `babel_helpers.ts`.
 *
 * A name counts as a helper only where it is used the way compilers use
 * helpers: only ever called (`__awaiter(…)`), never read as a value,
 * assigned or declared. A user's own outer-scope function that is called
 * and happens to carry a helper's name is taken for the helper: such
 * `__`-prefixed names are the compilers' by convention.
 *
 * @module
 */
import { BABEL_HELPERS } from "./babel_helpers.ts";
import { ESBUILD_HELPERS } from "./esbuild_helpers.ts";

/** tsc's helpers that can appear inside a function body (module-level ones such as `__importStar` cannot). */
const TSLIB_NAMES = [
  "__extends", "__assign", "__rest", "__decorate", "__param", "__esDecorate", "__runInitializers", "__propKey",
  "__setFunctionName", "__metadata", "__awaiter", "__generator", "__values", "__read", "__spread", "__spreadArrays",
  "__spreadArray", "__await", "__asyncGenerator", "__asyncDelegator", "__asyncValues", "__makeTemplateObject",
  "__classPrivateFieldGet", "__classPrivateFieldSet", "__classPrivateFieldIn", "__addDisposableResource",
  "__disposeResources",
];
const TSLIB = new Set(TSLIB_NAMES);

/** Every helper name a shipped function may call without defining it. */
export const COMPILER_HELPER_NAMES: ReadonlySet<string> = new Set([
  ...TSLIB_NAMES,
  ...Object.keys(ESBUILD_HELPERS),
  ...Object.keys(BABEL_HELPERS),
]);

let tslib: Promise<Record<string, unknown>> | undefined;

/**
 * The definitions of `names` (each one of {@link COMPILER_HELPER_NAMES}),
 * in order. Loads `tslib` on first need.
 *
 * @example
 * ```ts
 * import { compilerHelpers } from "./src/task/compiler_helpers.ts";
 * const [__name] = await compilerHelpers(["__name"]) as [(f: object, n: string) => object];
 * console.assert((__name(() => 1, "one") as { name: string }).name === "one");
 * ```
 * @throws {TypeError} (rejects) for a name that is not a known helper.
 */
export async function compilerHelpers(names: readonly string[]): Promise<unknown[]> {
  const lib = names.some((n) => TSLIB.has(n)) ? await (tslib ??= import("npm:tslib@^2.6.2") as Promise<Record<string, unknown>>) : undefined;
  return names.map((name) => {
    if (TSLIB.has(name)) return lib![name];
    if (Object.hasOwn(ESBUILD_HELPERS, name)) return ESBUILD_HELPERS[name];
    if (Object.hasOwn(BABEL_HELPERS, name)) return BABEL_HELPERS[name];
    throw new TypeError(`unknown compiler helper ${JSON.stringify(name)}`);
  });
}
