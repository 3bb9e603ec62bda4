/**
 * Node's `Buffer` class for the codec, without loading it on Deno before a
 * Buffer can exist.
 *
 * Why: on Deno, `import "node:buffer"` (or touching the `Buffer` global)
 * starts the Node-compatibility layer, about 10 ms of every worker's start
 * (measured on the 2-core CI machine), and the codec only needs `Buffer` to
 * recognise one (written as a Buffer) and to rebuild one (received from
 * Node). A value can only be a Buffer once someone has loaded the class, so
 * on Deno it is loaded when the codec meets a direct subclass of
 * `Uint8Array` (what `Buffer` is) or a Buffer arrives. On Node the class is
 * a free global and is taken at once.
 *
 * @module
 */

type BufferClass = typeof import("node:buffer").Buffer;

declare const Deno: unknown;

let loaded: BufferClass | undefined;

/**
 * Node's `Buffer` class (on Deno, its Node-compatible one), loaded on first
 * call.
 *
 * @example
 * ```ts
 * import { nodeBuffer } from "./src/runtime/node_buffer.ts";
 * console.assert(nodeBuffer().from([1, 2]).length === 2);
 * ```
 */
export function nodeBuffer(): BufferClass {
  // The global first: `process` is a second, larger part of Deno's compatibility layer.
  return loaded ??= (globalThis as { Buffer?: BufferClass }).Buffer ??
    (process.getBuiltinModule("node:buffer") as typeof import("node:buffer")).Buffer;
}

/**
 * `Buffer.prototype` where it costs nothing to get (Node), else `undefined`:
 * the codec's tables take it at load; on Deno see {@link isBufferPrototype}.
 *
 * @example
 * ```ts
 * import { eagerBufferPrototype } from "./src/runtime/node_buffer.ts";
 * console.assert(eagerBufferPrototype === undefined || eagerBufferPrototype instanceof Uint8Array);
 * ```
 */
export const eagerBufferPrototype: object | undefined = typeof Deno === "undefined" ? nodeBuffer().prototype : undefined;

/**
 * Whether `proto` is `Buffer.prototype`. Loads the class only for a direct
 * subclass of `Uint8Array`'s prototype, so other objects never load it.
 *
 * @example
 * ```ts
 * import { isBufferPrototype, nodeBuffer } from "./src/runtime/node_buffer.ts";
 * console.assert(!isBufferPrototype(Object.prototype));
 * console.assert(isBufferPrototype(Object.getPrototypeOf(nodeBuffer().alloc(1))));
 * ```
 */
export function isBufferPrototype(proto: object): boolean {
  return Object.getPrototypeOf(proto) === Uint8Array.prototype && proto === nodeBuffer().prototype;
}
