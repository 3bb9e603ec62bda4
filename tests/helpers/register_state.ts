/**
 * Test fixture for Pool workers: importing it loads every skypool handle
 * class (through `mod.ts`), so a worker can decode Lock, Queue, … arguments
 * even before the worker entry point registers them itself.
 *
 * @module
 */
import "../../mod.ts";

/** A no-op initializer; the import above is what matters. */
export default function registerState(): void {}
