/**
 * The runtime helpers esbuild (and so tsx, Vite, Bun's transpiler…) writes
 * at the top of a file it lowers, re-implemented with the same semantics so
 * that a function whose body calls them (`__name(inner, "inner")` under
 * `keepNames`, `__async(this, null, function* () {…})` below ES2017,
 * `__spreadValues`/`__objRest` below ES2018, `__publicField` for class
 * fields) still runs after shipping. esbuild keeps no package of these to
 * import; each mirrors its definition in esbuild's `internal/runtime`.
 *
 * @module
 */

const hasOwn = Object.prototype.hasOwnProperty;
const isEnumerable = Object.prototype.propertyIsEnumerable;

/** Assigns like `obj[key] = value`, but defines an own property where one is inherited (a setter must not run). */
function __defNormalProp(obj: object, key: PropertyKey, value: unknown): unknown {
  if (key in obj) {
    return Object.defineProperty(obj, key, { enumerable: true, configurable: true, writable: true, value });
  }
  return (obj as Record<PropertyKey, unknown>)[key] = value;
}

/** `{ ...a, ...b }` lowered: copies `b`'s own enumerable keys, strings then symbols, onto `a`. */
function __spreadValues(a: object, b: object | null | undefined): object {
  const from = (b ?? {}) as Record<PropertyKey, unknown>;
  for (const key in from) if (hasOwn.call(from, key)) __defNormalProp(a, key, from[key]);
  for (const sym of Object.getOwnPropertySymbols(from)) {
    if (isEnumerable.call(from, sym)) __defNormalProp(a, sym, from[sym]);
  }
  return a;
}

/** The explicit properties after a spread (`{ ...a, x: 1 }`): defined with `b`'s descriptors. */
function __spreadProps(a: object, b: object): object {
  return Object.defineProperties(a, Object.getOwnPropertyDescriptors(b));
}

/** `keepNames`: gives `target` the name it had in the source. */
function __name<T extends object>(target: T, value: string): T {
  return Object.defineProperty(target, "name", { value, configurable: true });
}

/** `const { a, ...rest } = source` lowered: the own enumerable keys of `source` not in `exclude`. */
function __objRest(source: Record<PropertyKey, unknown>, exclude: PropertyKey[]): Record<PropertyKey, unknown> {
  const target: Record<PropertyKey, unknown> = {};
  for (const key in source) if (hasOwn.call(source, key) && exclude.indexOf(key) < 0) target[key] = source[key];
  if (source != null) {
    for (const sym of Object.getOwnPropertySymbols(source)) {
      if (exclude.indexOf(sym) < 0 && isEnumerable.call(source, sym)) target[sym] = source[sym];
    }
  }
  return target;
}

/** A class field lowered to the constructor: `this.x = 1` with define semantics. */
function __publicField(obj: object, key: PropertyKey, value: unknown): unknown {
  return __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);
}

/** `async` lowered to a generator: runs `generator` with `await` as `yield`. */
function __async(self: unknown, args: unknown, generator: (...a: unknown[]) => Generator): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const gen = generator.apply(self, (args ?? []) as unknown[]);
    const step = (r: IteratorResult<unknown>): void => {
      if (r.done) resolve(r.value);
      else Promise.resolve(r.value).then(fulfilled, rejected);
    };
    const fulfilled = (value: unknown): void => {
      try {
        step(gen.next(value));
      } catch (e) {
        reject(e);
      }
    };
    const rejected = (value: unknown): void => {
      try {
        step(gen.throw(value));
      } catch (e) {
        reject(e);
      }
    };
    fulfilled(undefined);
  });
}

/** esbuild's helpers by the name its output calls them. */
export const ESBUILD_HELPERS: Readonly<Record<string, unknown>> = {
  __defNormalProp,
  __spreadValues,
  __spreadProps,
  __name,
  __objRest,
  __publicField,
  __async,
};
