/**
 * The one vocabulary for how a batch ended, shared by the worker core
 * (which writes a status byte) and the parent (which reads it as a name).
 *
 * @module
 */

/** Status byte of a finished batch, as the worker core writes it on the wire. */
export const Status = { OK: 0, THREW: 1, UNSERIALIZABLE: 2 } as const;

/** The name of each status byte, indexed by the byte. */
export const STATUS_NAMES = ["ok", "threw", "unserializable"] as const;

/**
 * How a batch ended, by name: the worker's three statuses, plus `lost`,
 * which only the parent can observe (the batch will never finish).
 */
export type BatchStatus = typeof STATUS_NAMES[number] | "lost";
