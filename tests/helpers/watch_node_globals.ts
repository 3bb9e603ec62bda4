/**
 * Records the first read of each of Deno's Node globals (`Buffer`,
 * `process`…): each is a getter there whose first read starts the
 * Node-compatibility layer. `setTimeout` and `setInterval` too: Deno's are
 * Node's, and the first call in a process sets up Node's timers (~5 ms).
 * Import it before anything else; it imports no `node:` module itself.
 *
 * @module
 */
const WATCHED = ["Buffer", "process", "global", "setImmediate", "clearImmediate", "setTimeout", "setInterval"];

/** The watched globals read so far, in the order of their first read. */
export const globalsRead: string[] = [];

for (const name of WATCHED) {
  const d = Object.getOwnPropertyDescriptor(globalThis, name);
  if (d === undefined || !d.configurable) continue;
  const get = d.get ?? (() => d.value);
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() {
      if (!globalsRead.includes(name)) globalsRead.push(name);
      return get.call(globalThis);
    },
  });
}
