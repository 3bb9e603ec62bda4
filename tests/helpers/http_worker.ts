/**
 * Test helper: a skypool http worker endpoint, in this process
 * (`serveHttp` on a free port) or in a child process of the same runtime
 * (so a task may kill it), and test servers in front of it that answer
 * "busy" or change the bytes on the way.
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { handleFetch } from "../../src/remote/fetch_handler.ts";
import { serveHttp } from "../../src/remote/serve.ts";

/** A running endpoint. */
export interface HttpWorker {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** Requests it received (in-process endpoints only). */
  readonly requests: number;
  /** Stops it and waits until it is gone (idempotent). */
  stop(): Promise<void>;
}

/**
 * Serves `handler` (default: the skypool worker) in this process, on a free
 * port of 127.0.0.1, counting requests.
 */
export async function startInProcessWorker(handler: (req: Request, n: number) => Promise<Response> = (req) => handleFetch(req)): Promise<HttpWorker> {
  const stop = new AbortController();
  let requests = 0;
  const { port, closed } = await serveHttp({ port: 0, hostname: "127.0.0.1", signal: stop.signal, handler: (req) => handler(req, ++requests) });
  return {
    url: `http://127.0.0.1:${port}/`,
    get requests() {
      return requests;
    },
    async stop() {
      stop.abort();
      await closed;
    },
  };
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** Starts `http_worker_main` in a child process with `env` added to this one's. */
export async function startChildWorker(env: Record<string, string> = {}): Promise<HttpWorker & { exited: Promise<unknown> }> {
  const script = fileURLToPath(new URL(`./http_worker_main${ext}`, import.meta.url));
  const exe = isDeno ? (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath() : process.execPath;
  const proc = spawn(exe, [...(isDeno ? ["run", "-A", "--no-check"] : []), script], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`http worker did not start within 30 s: ${err}`)), 30_000);
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`http worker exited (${code}) before listening: ${err}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: 0,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      proc.stdin!.destroy();
      await exited;
    },
  };
}
