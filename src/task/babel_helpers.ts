/**
 * The inline helpers Babel and SWC write into a file they lower (when not
 * told to import them from `@babel/runtime` / `@swc/helpers`), for the
 * features a shipped function's body commonly uses: `async` below ES2017,
 * object spread and rest below ES2018, class fields. Babel names them
 * `_asyncToGenerator`, SWC `_async_to_generator`; both spellings map to
 * one implementation with the semantics of Babel's helper of that name.
 *
 * @module
 */

type Obj = Record<PropertyKey, unknown>;

/** `async` lowered: `fn` is a generator function whose `yield` is `await`. */
function _asyncToGenerator(fn: (...a: unknown[]) => Generator): (...a: unknown[]) => Promise<unknown> {
  return function (this: unknown, ...args: unknown[]) {
    return new Promise((resolve, reject) => {
      const gen = fn.apply(this, args);
      const step = (key: "next" | "throw", arg: unknown): void => {
        let info: IteratorResult<unknown>;
        try {
          info = gen[key](arg);
        } catch (err) {
          reject(err);
          return;
        }
        if (info.done) resolve(info.value);
        else Promise.resolve(info.value).then((v) => step("next", v), (e) => step("throw", e));
      };
      step("next", undefined);
    });
  };
}

/** A computed key as a property key (`Symbol.toPrimitive` with hint "string"). */
function toPropertyKey(key: unknown): PropertyKey {
  if (typeof key !== "object" || key === null) return typeof key === "symbol" ? key : String(key);
  const prim = (key as { [Symbol.toPrimitive]?: (hint: string) => unknown })[Symbol.toPrimitive];
  if (prim !== undefined) {
    const p = prim.call(key, "string");
    if (typeof p === "object") throw new TypeError("@@toPrimitive must return a primitive value.");
    return typeof p === "symbol" ? p : String(p);
  }
  return String(key);
}

/** A class field or computed member: defines (never assigns) an own, enumerable property. */
function _defineProperty<T extends object>(obj: T, key: unknown, value: unknown): T {
  return Object.defineProperty(obj, toPropertyKey(key), { value, enumerable: true, configurable: true, writable: true });
}

function ownEnumerableKeys(o: object): PropertyKey[] {
  const keys: PropertyKey[] = Object.keys(o);
  for (const sym of Object.getOwnPropertySymbols(o)) {
    if (Object.prototype.propertyIsEnumerable.call(o, sym)) keys.push(sym);
  }
  return keys;
}

/** `{ ...a, ...b }` lowered: defines each source's own enumerable keys on `target`, in order. */
function _objectSpread2(target: Obj, ...sources: unknown[]): Obj {
  for (const source of sources) {
    const from = Object(source ?? {}) as Obj;
    for (const key of ownEnumerableKeys(from)) _defineProperty(target, key, from[key]);
  }
  return target;
}

/** The explicit properties after a spread: defined with `source`'s descriptors (SWC's `_object_spread_props`). */
function objectSpreadProps(target: object, source: object): object {
  return Object.defineProperties(target, Object.getOwnPropertyDescriptors(source));
}

/** `const { a, ...rest } = source` lowered: the own enumerable keys of `source` not in `excluded`. */
function _objectWithoutProperties(source: unknown, excluded: PropertyKey[]): Obj {
  if (source == null) return {};
  const out: Obj = {};
  for (const key of ownEnumerableKeys(source as object)) {
    if (!excluded.includes(key)) out[key] = (source as Obj)[key];
  }
  return out;
}

/** The helpers by the names Babel and SWC give them. */
export const BABEL_HELPERS: Readonly<Record<string, unknown>> = {
  _asyncToGenerator,
  _async_to_generator: _asyncToGenerator,
  _defineProperty,
  _define_property: _defineProperty,
  _objectSpread2,
  _objectSpread: _objectSpread2,
  _object_spread: _objectSpread2,
  _object_spread_props: objectSpreadProps,
  _objectWithoutProperties,
  _object_without_properties: _objectWithoutProperties,
};
