/**
 * The `http` transport: each sealed batch is POSTed to `http.url`
 * (`SKYPOOL_HTTP_URL`), where the fetch handler (`skypool/fetch`, `skypool
 * serve`, or any fetch-style host) runs it and answers with the sealed
 * result. Connections are kept alive by the runtime's `fetch`; at most the
 * transport's `size` calls are in flight.
 *
 * A call that gets no answer within `http.timeoutMs` fails with a
 * `TimeoutError`; one answered 429 or 503 (the server is busy) is sent
 * again after its `Retry-After` (or an exponential backoff), at most
 * `http.retries` more times. Nothing else is retried: a task that threw
 * comes back as a result, and a connection lost mid-call is a
 * `WorkerLostError` (the batch may have run).
 *
 * @module
 */
import { config } from "../config.ts";
import { SkypoolError, TimeoutError, WorkerLostError } from "../errors.ts";
import type { BatchChannel, SendInfo } from "../remote/batch_channel.ts";
import { isEnvelope } from "../remote/envelope.ts";
import { RemoteTransport } from "../remote/remote_transport.ts";
import { messageOf } from "../worker/untrusted.ts";
import { abortableSleep } from "../remote/abortable_sleep.ts";
import { type Backoff, retryDelay } from "../remote/retry_delay.ts";

/** Options of {@link HttpChannel}; each defaults to its `http.*` setting. */
export interface HttpChannelOptions {
  /** The worker endpoint. @default config `http.url` */
  url?: string;
  /** How long one call may take (ms). @default config `http.timeoutMs` */
  timeoutMs?: number;
  /** More sends of a call answered 429/503. @default config `http.retries` */
  retries?: number;
}

/** Waits between retries of a busy answer (see `retryDelay`). */
const BACKOFF: Backoff = { baseMs: 100, maxMs: 5_000, retryAfterMaxMs: 60_000 };
/** How much of an error page goes into a message. */
const SNIPPET = 200;

/**
 * Carries sealed batches over HTTP POST.
 *
 * @example
 * ```ts
 * import { HttpChannel } from "./src/transport/http.ts";
 * const channel = new HttpChannel({ url: "http://127.0.0.1:8080/" });
 * await channel.start();
 * console.assert(channel.name === "http");
 * await channel.close();
 * ```
 */
export class HttpChannel implements BatchChannel {
  /** The transport's name. */
  readonly name = "http";
  #options: HttpChannelOptions;
  #url = "";
  #timeoutMs = 0;
  #retries = 0;
  #calls = new Set<AbortController>();
  #idle: (() => void)[] = [];
  #terminated = false;

  /** A channel to `options.url` (checked at {@link HttpChannel.start}). */
  constructor(options: HttpChannelOptions = {}) {
    this.#options = options;
  }

  /**
   * Reads the settings.
   * @throws {SkypoolError} (rejects) when no URL is configured (the message names `SKYPOOL_HTTP_URL`).
   */
  start(): Promise<void> {
    const cfg = config.get().http;
    const url = this.#options.url ?? cfg.url;
    if (url === undefined) {
      return Promise.reject(
        new SkypoolError(
          "the http transport needs the URL of a skypool worker endpoint: set SKYPOOL_HTTP_URL (or config http.url), " +
            "e.g. http://worker-host:8080/ where `skypool serve` listens",
        ),
      );
    }
    this.#url = url;
    this.#timeoutMs = this.#options.timeoutMs ?? cfg.timeoutMs;
    this.#retries = this.#options.retries ?? cfg.retries;
    return Promise.resolve();
  }

  /** POSTs one sealed batch; see the module doc for retries and errors. */
  async send(sealed: Uint8Array, info: SendInfo, signal: AbortSignal): Promise<Uint8Array> {
    const call = new AbortController();
    const onAbort = () => call.abort(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    this.#calls.add(call);
    try {
      for (let attempt = 0;; attempt++) {
        const answer = await this.#post(sealed, info, call);
        if (answer.busy === undefined) return answer.bytes;
        if (attempt >= this.#retries) {
          throw new SkypoolError(`the http worker at ${this.#url} was busy (HTTP ${answer.status}) ${attempt + 1} times in a row; gave up (http.retries is ${this.#retries})`);
        }
        await abortableSleep(retryDelay(answer.busy, attempt, BACKOFF), call.signal);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#calls.delete(call);
      if (this.#calls.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /** One POST: the answer's bytes, or that the server was busy (with its `Retry-After`). */
  async #post(sealed: Uint8Array, info: SendInfo, call: AbortController): Promise<{ bytes: Uint8Array; busy?: undefined } | { busy: string | null; status: number }> {
    // The caller's abort and the per-call timeout end the same request.
    const attempt = new AbortController();
    const onAbort = () => attempt.abort(call.signal.reason);
    call.signal.addEventListener("abort", onAbort, { once: true });
    if (call.signal.aborted) onAbort();
    const timer = setTimeout(() => attempt.abort(new TimeoutError(`the http worker at ${this.#url} did not answer within ${this.#timeoutMs} ms (http.timeoutMs)`)), this.#timeoutMs);
    try {
      const res = await fetch(this.#url, {
        method: "POST",
        body: sealed as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "application/octet-stream", "x-skypool-batch": info.batchId },
        signal: attempt.signal,
      });
      if (res.status === 429 || res.status === 503) {
        await res.body?.cancel().catch(() => {});
        return { busy: res.headers.get("retry-after"), status: res.status };
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (res.ok || isEnvelope(bytes)) return { bytes };
      const snippet = new TextDecoder().decode(bytes.subarray(0, SNIPPET)).replace(/\s+/g, " ").trim();
      const message = `the http worker at ${this.#url} answered HTTP ${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ""}`;
      throw res.status >= 500 ? new WorkerLostError(message) : new SkypoolError(message);
    } catch (err) {
      if (attempt.signal.aborted) throw attempt.signal.reason;
      if (err instanceof SkypoolError) throw err;
      throw new WorkerLostError(`lost the http worker at ${this.#url} during the call: ${messageOf(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      call.signal.removeEventListener("abort", onAbort);
    }
  }

  /** Waits for the calls in flight. */
  async close(): Promise<void> {
    if (this.#calls.size > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** Aborts the calls in flight (they reject with a `WorkerLostError`). */
  terminate(): Promise<void> {
    if (!this.#terminated) {
      this.#terminated = true;
      const error = new WorkerLostError(`the http transport was terminated before the worker at ${this.#url} answered`);
      for (const call of this.#calls) call.abort(error);
    }
    return Promise.resolve();
  }
}

/**
 * The `http` transport: a {@link RemoteTransport} over an {@link HttpChannel}.
 *
 * @param processes batches in flight (default: config `http.concurrency`).
 * @example
 * ```ts
 * import { httpTransport } from "./src/transport/http.ts";
 * import { config } from "./src/config.ts";
 * config.set({ authkey: "a-doc-key-of-16-chars", http: { url: "http://127.0.0.1:8080/" } });
 * const t = httpTransport(4);
 * console.assert(t.name === "http" && t.size === 4);
 * config.reset();
 * ```
 * @throws {SkypoolError} when no authkey is configured explicitly (the message says how to set `SKYPOOL_AUTHKEY`).
 */
export function httpTransport(processes?: number, options: HttpChannelOptions = {}): RemoteTransport {
  return new RemoteTransport(new HttpChannel(options), { size: processes ?? config.get().http.concurrency });
}
