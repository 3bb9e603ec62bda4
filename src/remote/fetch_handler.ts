/**
 * The HTTP face of a remote worker: a `(req: Request) => Promise<Response>`
 * handler, so one worker runs under `Deno.serve`, `skypool serve` (Node's
 * `node:http`), and fetch-style function hosts alike. `POST` a sealed
 * batch, get the sealed result back (`200`), or a refusal (`403`) when the
 * batch did not verify or has expired. `GET` answers a health check.
 *
 * @module
 */
import { isRefusal, requireRemoteAuthkey } from "./envelope.ts";
import { handleBatch, type RemoteWorkerOptions } from "./remote_worker.ts";

const OCTETS = { "content-type": "application/octet-stream" };

/**
 * Answers one request with the default worker options (no key check up
 * front: without an authkey, every batch is refused with a message that
 * says how to set one).
 *
 * @example
 * ```ts
 * import { handleFetch } from "./src/remote/fetch_handler.ts";
 * const res = await handleFetch(new Request("http://worker/", { method: "POST", body: new Uint8Array([1, 2, 3]) }));
 * console.assert(res.status === 403);
 * ```
 */
export async function handleFetch(req: Request, options: RemoteWorkerOptions = {}): Promise<Response> {
  if (req.method === "GET" || req.method === "HEAD") {
    return new Response(req.method === "GET" ? "skypool worker: POST sealed batches here\n" : null, { status: 200 });
  }
  if (req.method !== "POST") return new Response("skypool worker: only POST (and GET) are served\n", { status: 405, headers: { allow: "GET, HEAD, POST" } });
  const answer = await handleBatch(new Uint8Array(await req.arrayBuffer()), options);
  return new Response(answer as Uint8Array<ArrayBuffer>, { status: isRefusal(answer) ? 403 : 200, headers: OCTETS });
}

/**
 * A fetch handler for this worker, after checking that an authkey is
 * configured (a worker without one would refuse everything).
 *
 * @example
 * ```ts
 * import { createFetchHandler } from "./src/remote/fetch_handler.ts";
 * import { config } from "./src/config.ts";
 * config.set({ authkey: "a-doc-key-of-16-chars" });
 * const handler = createFetchHandler();
 * console.assert((await handler(new Request("http://worker/"))).status === 200);
 * config.reset();
 * ```
 * @throws {SkypoolError} when no authkey is configured (the message says how to set `SKYPOOL_AUTHKEY`).
 */
export function createFetchHandler(options: RemoteWorkerOptions = {}): (req: Request) => Promise<Response> {
  requireRemoteAuthkey("the skypool fetch handler");
  return (req) => handleFetch(req, options);
}
