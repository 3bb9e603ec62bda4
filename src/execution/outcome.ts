/**
 * Turns how a batch ended into values or an error: the one place the
 * parent reads the worker's status vocabulary.
 *
 * @module
 */
import { SerializationError } from "../errors.ts";
import { decode } from "../task/codec.ts";
import { STATUS_NAMES } from "../transport/batch_status.ts";
import type { BatchOutcome } from "../transport/transport.ts";
import type { ChunkOutcome } from "./chunk_feeder.ts";

const utf8 = new TextDecoder();

/** A batch outcome from a status byte and its payload, as a worker sent them. */
export function outcomeFromWire(status: number, body: Uint8Array): BatchOutcome {
  const name = STATUS_NAMES[status];
  if (name === "ok" || name === "threw") return { status: name, payload: body };
  if (name === "unserializable") return { status: name, message: utf8.decode(body) };
  return { status: "unserializable", message: `unknown batch status ${status}` };
}

/**
 * The values a batch produced (`ok`), or why it failed: the decoded thrown
 * value, a `SerializationError` for a result the worker could not encode,
 * or the transport's error for a lost batch.
 */
export function toChunkOutcome(o: BatchOutcome): ChunkOutcome {
  switch (o.status) {
    case "ok":
      try {
        return { ok: true, values: decode(o.payload) as unknown[] };
      } catch (error) {
        return { ok: false, error };
      }
    case "threw":
      try {
        return { ok: false, error: decode(o.payload) };
      } catch (error) {
        return { ok: false, error };
      }
    case "unserializable":
      return { ok: false, error: new SerializationError(`task result cannot be serialized: ${o.message}`) };
    case "lost":
      return { ok: false, error: o.error };
  }
}
