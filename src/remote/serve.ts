/**
 * Serves the fetch handler over HTTP: `Deno.serve` under Deno, `node:http`
 * under Node (each request's body read whole, handed to the handler as a
 * `Request`, its `Response` written back). Used by `skypool serve` and by
 * tests that need a worker endpoint.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { handleFetch } from "./fetch_handler.ts";

// deno-lint-ignore no-explicit-any
declare const Deno: any;

/** Options of {@link serveHttp}. */
export interface ServeOptions {
  /** The TCP port (0: a free one). @default 8080 */
  port?: number;
  /** The address to listen on. @default "0.0.0.0" */
  hostname?: string;
  /** Aborting it stops the server (connections in flight are closed). */
  signal?: AbortSignal;
  /** Answers each request. @default handleFetch */
  handler?: (req: Request) => Promise<Response>;
}

/** A running server. */
export interface ServedHttp {
  /** The port it listens on. */
  readonly port: number;
  /** Settles once the server has stopped. */
  readonly closed: Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function answerNode(handler: (req: Request) => Promise<Response>, req: IncomingMessage, res: ServerResponse, base: string): Promise<void> {
  try {
    const method = req.method ?? "GET";
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const body = method === "GET" || method === "HEAD" ? undefined : await readBody(req);
    const response = await handler(new Request(new URL(req.url ?? "/", base), { method, headers, body: body as Uint8Array<ArrayBuffer> | undefined }));
    const bytes = new Uint8Array(await response.arrayBuffer());
    const head: Record<string, string> = { "content-length": String(bytes.length) };
    response.headers.forEach((value, name) => (head[name] ??= value));
    res.writeHead(response.status, head);
    res.end(bytes);
  } catch (err) {
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end(`skypool worker: ${(err as Error)?.message ?? err}\n`);
  }
}

function serveNode(o: Required<Omit<ServeOptions, "signal">> & { signal?: AbortSignal }): Promise<ServedHttp> {
  return new Promise((resolve, reject) => {
    let base = "http://localhost/";
    const server = createServer((req, res) => void answerNode(o.handler, req, res, base));
    const closed = new Promise<void>((done) => server.once("close", () => done()));
    const stop = () => {
      server.close();
      server.closeAllConnections();
    };
    server.once("error", reject);
    server.listen(o.port, o.hostname, () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : o.port;
      base = `http://localhost:${port}/`;
      if (o.signal?.aborted) stop();
      else o.signal?.addEventListener("abort", stop, { once: true });
      resolve({ port, closed });
    });
  });
}

function serveDeno(o: Required<Omit<ServeOptions, "signal">> & { signal?: AbortSignal }): Promise<ServedHttp> {
  return new Promise((resolve, reject) => {
    // onListen may run before Deno.serve returns the server.
    let listening: number | undefined;
    try {
      const server = Deno.serve({
        port: o.port,
        hostname: o.hostname,
        signal: o.signal,
        onListen: (addr: { port: number }) => (listening = addr.port),
      }, o.handler);
      if (listening === undefined) throw new Error(`Deno.serve did not report its port`);
      resolve({ port: listening, closed: server.finished });
    } catch (err) {
      reject(err);
    }
  });
}

/**
 * Serves `handler` (default: the skypool worker) until `signal` aborts.
 *
 * @example
 * ```ts
 * import { serveHttp } from "./src/remote/serve.ts";
 * const stop = new AbortController();
 * const { port, closed } = await serveHttp({ port: 0, hostname: "127.0.0.1", signal: stop.signal });
 * console.assert((await (await fetch(`http://127.0.0.1:${port}/`)).text()).startsWith("skypool worker"));
 * stop.abort();
 * await closed;
 * ```
 * @throws {Error} (rejects) when the port cannot be listened on (in use, no permission).
 * @throws {RangeError} when `port` is not an integer in 0..65535.
 */
export function serveHttp(options: ServeOptions = {}): Promise<ServedHttp> {
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
  const o = { port, hostname: options.hostname ?? "0.0.0.0", signal: options.signal, handler: options.handler ?? ((req: Request) => handleFetch(req)) };
  return typeof Deno !== "undefined" ? serveDeno(o) : serveNode(o);
}
