/**
 * Child-process side of the worker start test: watches Deno's Node globals
 * (`Buffer`, `process`…, whose first read starts the Node-compatibility
 * layer), loads what a local worker loads before its first result (its
 * entry's modules, the worker loop, the fast decoder), round-trips the
 * values a task commonly takes and returns (with the parent watch and the
 * worker loop's timers armed, as in a worker), then a Node `Buffer`, and
 * prints one JSON line: `{ beforeBuffer, afterBuffer, bufferBack }`, the
 * globals read up to each point and whether the Buffer came back as one.
 * It imports no `node:` module itself, and writes with `console.log`.
 *
 * @module
 */
import { globalsRead as read } from "./watch_node_globals.ts";

const { ppid, watchParent } = await import("../../src/runtime/worker_host.ts");
await import("../../src/transport/handshake.ts");
const { startWorker } = await import("../../src/worker/worker_loop.ts");
// What subprocess_main does once connected: watch the parent, start the loop
// (which arms its READY timer). The link goes nowhere.
watchParent(ppid(), 50, () => {});
startWorker({ write() {}, flush: () => Promise.resolve() });
const { preloadDecoder } = await import("../../src/task/cbor_decoder.ts");
await preloadDecoder();
const { decode, encode } = await import("../../src/task/codec.ts");
const rows = Array.from({ length: 20 }, (_, i) => ({ id: i, name: `row ${i}`, at: new Date(i), big: BigInt(i) }));
const common = [1, -0.5, "text", null, undefined, true, [1, [2]], rows, new Map([[1, 2]]), new Set(["a"]), new Float64Array(3), new TypeError("bad")];
decode(encode(common));
const beforeBuffer = [...read];
const nodeBuffer = await import("node:buffer");
const back = decode(encode(nodeBuffer.Buffer.from("bytes")));
const bufferBack = nodeBuffer.Buffer.isBuffer(back) && back.toString() === "bytes";
console.log(JSON.stringify({ beforeBuffer, afterBuffer: [...read], bufferBack }));

export {};
