/**
 * `skypool/fetch`: the worker side of the `http` transport as a fetch
 * handler. Serve it with `Deno.serve(handleFetch)`, `deno serve` (this
 * module's default export), or `skypool serve`; set `SKYPOOL_AUTHKEY` to
 * the callers' key.
 *
 * @example
 * ```ts
 * import fetchWorker, { handleFetch } from "./fetch.ts";
 * console.assert(typeof handleFetch === "function" && typeof fetchWorker.fetch === "function");
 * ```
 *
 * @module
 */
import { handleFetch } from "./src/remote/fetch_handler.ts";

export { createFetchHandler, handleFetch } from "./src/remote/fetch_handler.ts";
export { handleBatch, type RemoteWorkerOptions } from "./src/remote/remote_worker.ts";
export { serveHttp, type ServeOptions, type ServedHttp } from "./src/remote/serve.ts";

/** For `deno serve fetch.ts` and fetch-style hosts that take `{ fetch }`. */
const worker: { fetch(req: Request): Promise<Response> } = { fetch: (req) => handleFetch(req) };
export default worker;
