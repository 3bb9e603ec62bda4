/**
 * Ships each task function once: the shipped form is remembered per
 * function object and per source text, so a fresh arrow per call
 * (`pool.apply((x) => x + 1, [i])` in a loop) is analysed once.
 *
 * @module
 */
import { type FunctionRef, shipFunction, type TaskFn } from "../task/function_ref.ts";

/** Distinct function sources whose shipped form is remembered. */
const SOURCE_CACHE_SIZE = 512;

/**
 * A cache in front of `shipFunction`.
 *
 * @example
 * ```ts
 * import { FunctionShipper } from "./src/execution/function_shipper.ts";
 * const s = new FunctionShipper();
 * console.assert(s.ship((x: number) => x + 1) === s.ship((x: number) => x + 1));
 * ```
 */
export class FunctionShipper {
  #refs = new WeakMap<object, FunctionRef>();
  #bySource = new Map<string, FunctionRef>();

  /**
   * The shipped form of `fn`.
   * @throws {SerializationError} for a function that cannot be shipped (never cached, so the error repeats).
   * @throws {TypeError} for something that is not a function or task reference.
   */
  ship(fn: TaskFn): FunctionRef {
    let ref = this.#refs.get(fn);
    if (ref) return ref;
    let source = typeof fn === "function" ? Function.prototype.toString.call(fn) : undefined;
    // Built-ins all read "function name() { [native code] }": not a key.
    if (source?.endsWith("[native code] }")) source = undefined;
    ref = source !== undefined ? this.#bySource.get(source) : undefined;
    if (!ref) {
      ref = shipFunction(fn);
      if (source !== undefined) {
        if (this.#bySource.size >= SOURCE_CACHE_SIZE) this.#bySource.clear();
        this.#bySource.set(source, ref);
      }
    }
    this.#refs.set(fn, ref);
    return ref;
  }
}
