/**
 * cbor-x's decoder, loaded on first use instead of at `import "skypool"`
 * (its modules cost about as much as a fifth of the package's import on
 * Node).
 *
 * Two ways in, one decoder at a time:
 * - {@link preloadDecoder} imports cbor-x's ES module, the fast one (it
 *   compiles a reader per record shape). A pool, a Redis connection and a
 *   worker start it while they wait on something else, and the first
 *   `encode` does too: every decode answers something sent before.
 * - {@link cborDecoder}, when a decode comes first all the same, loads
 *   cbor-x's decoder without `eval` synchronously (CommonJS, same format and
 *   checks, slower on records) so that nothing waits or fails; the fast one
 *   replaces it once its import lands (a Decoder keeps no state between
 *   messages).
 *
 * cbor-x is imported through its `/encode` entry on purpose: its main entry
 * loads the optional native string extractor (`cbor-extract`), which is
 * built against Node's V8 and crashes a Deno process on first use. The
 * `/encode` entry is the same decoder without it, in both runtimes; so is
 * `/decode-no-eval`.
 *
 * @module
 */
import type { addExtension, Decoder } from "npm:cbor-x@^1.6.9/encode";
import { nodeModule } from "../runtime/builtins.ts";

/** The part of cbor-x the reader uses (both entries have it). */
interface CborDecoding {
  Decoder: typeof Decoder;
  addExtension: typeof addExtension;
}

type Extension = Parameters<typeof addExtension>[0];

/** Which decoder decodes now: none loaded yet, the synchronous fallback, or the fast one. */
export type DecoderState = "none" | "fallback" | "fast";

const extensions: Extension[] = [];
let current: Decoder | undefined;
let state: DecoderState = "none";
let fast: Promise<void> | undefined;

function install(cbor: CborDecoding): Decoder {
  for (const e of extensions) cbor.addExtension(e);
  // A Decoder, not an Encoder: an Encoder keeps record structures across calls
  // (for cbor-x's shared structures), so one message's records would leak into
  // the next. mapsAsObjects: CBOR maps are plain objects (Maps have their own tag).
  return new cbor.Decoder({ useRecords: false, mapsAsObjects: true });
}

/**
 * Registers the decoder of a CBOR tag on whichever decoder is or will be
 * loaded. Call it at module load, before the first decode.
 *
 * @example
 * ```ts
 * import { defineTag } from "./src/task/cbor_decoder.ts";
 * defineTag(1299, (content: never) => content);
 * ```
 * @throws {Error} when a decoder is already loaded (a tag added then would
 *   be missing from the other one).
 */
export function defineTag(tag: number, decode: (content: never) => unknown): void {
  if (state !== "none") throw new Error(`defineTag(${tag}): the decoder is already loaded`);
  extensions.push({ tag, decode } as unknown as Extension);
}

/**
 * Starts importing cbor-x's fast decoder, once; resolves when it decodes
 * (or, if the import failed, when the fallback will be used instead).
 *
 * @example
 * ```ts
 * import { decoderState, preloadDecoder } from "./src/task/cbor_decoder.ts";
 * await preloadDecoder();
 * console.assert(decoderState() === "fast");
 * ```
 */
export function preloadDecoder(): Promise<void> {
  return fast ??= importFast().then(
    (cbor: CborDecoding) => {
      current = install(cbor);
      state = "fast";
    },
    () => {
      // The synchronous fallback loads on the first decode and reports its own error.
    },
  );
}

declare const Deno: unknown;

/**
 * cbor-x's fast decoder module. On Deno, its `decode.js` file itself (the
 * decoder alone, no native extractor) rather than the `npm:` package: a
 * worker's first `npm:` import starts Deno's Node-compatibility layer and
 * npm resolution, ~15 ms of its start on the CI machine, and the file
 * imports nothing from Node. Resolving the specifier loads nothing. If the
 * file cannot be imported (a worker allowed to read only some paths, another
 * package layout), the package is.
 */
async function importFast(): Promise<CborDecoding> {
  if (typeof Deno !== "undefined") {
    try {
      // The package's entry for Deno (index.js) sits next to decode.js.
      const file = new URL("decode.js", import.meta.resolve("npm:cbor-x@^1.6.9/decode"));
      if (file.protocol === "file:") return await import(file.href) as CborDecoding;
    } catch {
      // the package's own entry below
    }
  }
  return await import("npm:cbor-x@^1.6.9/encode");
}

/**
 * The decoder to use now: the fast one when its import has landed, else
 * cbor-x's decoder without `eval`, loaded synchronously.
 *
 * @example
 * ```ts
 * import { cborDecoder } from "./src/task/cbor_decoder.ts";
 * console.assert(cborDecoder().decode(new Uint8Array([0x01])) === 1);
 * ```
 * @throws {Error} when cbor-x is not installed.
 */
export function cborDecoder(): Decoder {
  if (current === undefined) {
    // Looked up here, not imported: importing node:module costs a Deno worker ~3 ms of start-up.
    const { createRequire } = nodeModule();
    current = install(createRequire(import.meta.url)("cbor-x/decode-no-eval") as CborDecoding);
    state = "fallback";
    void preloadDecoder();
  }
  return current;
}

/**
 * Which decoder is loaded (for tests and benchmarks).
 *
 * @example
 * ```ts
 * import { decoderState } from "./src/task/cbor_decoder.ts";
 * console.assert(["none", "fallback", "fast"].includes(decoderState()));
 * ```
 */
export function decoderState(): DecoderState {
  return state;
}
