// Imports cbor-x, which tests/task/bundle.test.ts marks external: it stays an import.
import { decode, encode } from "npm:cbor-x@^1.6.0";

/** Encodes and decodes `value` with cbor-x, as the worker's own copy of it does. */
export function roundTrip(value: unknown): unknown {
  return decode(encode(value));
}
