/**
 * Child-process side of the decoder test: imports the package, reports
 * which cbor-x decoder is loaded, decodes before the fast decoder could
 * have loaded (the synchronous fallback), then after it has, and prints
 * one JSON line: `{ afterImport, first, firstState, afterPreload, second }`.
 *
 * @module
 */
import process from "node:process";

await import("../../mod.ts");
const { decoderState, preloadDecoder } = await import("../../src/task/cbor_decoder.ts");
const { decode, encode } = await import("../../src/task/codec.ts");
const afterImport = decoderState();
// Records (same-shaped objects), a cycle and skypool's own tags: what the fast decoder compiles readers for.
const value = () => {
  const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `row ${i}`, tags: new Set([i]), big: 1n << BigInt(i) }));
  const cyclic: Record<string, unknown> = { rows };
  cyclic.self = cyclic;
  return cyclic;
};
const describe = (v: unknown) => {
  const o = v as { rows: { id: number; name: string; tags: Set<number>; big: bigint }[]; self: unknown };
  return { self: o.self === o, rows: o.rows.map((r) => [r.id, r.name, [...r.tags], String(r.big)]) };
};
const first = describe(decode(encode(value())));
const firstState = decoderState();
await preloadDecoder();
const afterPreload = decoderState();
const second = describe(decode(encode(value())));
process.stdout.write(JSON.stringify({ afterImport, first, firstState, afterPreload, second }) + "\n");
