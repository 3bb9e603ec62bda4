// TEMPORARY STUB (to be replaced by the codec work): fixes the API shape only.
import { Encoder } from "npm:cbor-x@^1.6.9";
import { SerializationError } from "../errors.ts";

const enc = new Encoder({ structuredClone: true, useRecords: false });

/** Encodes a value for another process. @throws {SerializationError} */
export function encode(value: unknown): Uint8Array {
  try {
    return enc.encode(value);
  } catch (err) {
    throw new SerializationError(String(err));
  }
}

/** Decodes bytes made by {@link encode}. @throws {SerializationError} */
export function decode(bytes: Uint8Array): unknown {
  return enc.decode(bytes);
}

/**
 * Registers a handle class (Lock, Queue, …): instances travel as a small
 * tagged record `{ kind, record }` and are rebuilt with `fromRecord`.
 */
export function registerHandle<T extends object>(
  _kind: string,
  _cls: abstract new (...args: never[]) => T,
  _toRecord: (handle: T) => unknown,
  _fromRecord: (record: unknown) => T,
): void {}
