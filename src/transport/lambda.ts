/**
 * The `lambda` transport: each batch is one synchronous (`RequestResponse`)
 * invoke of the function `skypool runtime deploy` made, whose handler
 * (`skypool/lambda`) runs it on the remote worker core. Batches in flight
 * are bounded by the pool's `processes` (default 100), with the SDK's
 * socket limit raised to match; throttling (429) and Lambda's own
 * failures (5xx) are retried with backoff, never sooner than `Retry-After`.
 *
 * @module
 */
import { config } from "../config.ts";
import { SkypoolError, TimeoutError, WorkerLostError } from "../errors.ts";
import type { BatchChannel, SendInfo } from "../remote/batch_channel.ts";
import { describeAwsError, httpStatus, type LambdaClient, type LambdaClientOptions, loadLambdaSdk, makeLambdaClient } from "../remote/lambda_client.ts";
import type { LambdaBatchAnswer, LambdaBatchEvent } from "../remote/lambda_handler.ts";
import { inlineBase64, LAMBDA_BATCH_BUDGET, LAMBDA_PAYLOAD_LIMIT } from "../remote/lambda_payload.ts";
import { sessionId } from "../state/redis.ts";
import { Storage, storageScheme } from "../storage/storage.ts";
import { storageNamespace } from "../storage/storage_namespace.ts";
import { RemoteTransport } from "../remote/remote_transport.ts";
import { checkInteger, checkOptions } from "../validate.ts";
import { abortableSleep } from "../remote/abortable_sleep.ts";
import { type Backoff, retryDelay } from "../remote/retry_delay.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

export { LAMBDA_PAYLOAD_LIMIT } from "../remote/lambda_payload.ts";

/** Settings of {@link LambdaChannel}. */
export interface LambdaChannelOptions {
  /** The function (name or ARN). @default config `lambda.functionName` */
  functionName?: string;
  /** Invokes in flight at once (and sockets). @default 100 */
  concurrency?: number;
  /** Settings of the Lambda client (region, endpoint, credentials…). */
  client?: LambdaClientOptions;
  /** How many times a throttled (429) invoke is tried again. @default 100 */
  throttleRetries?: number;
  /** How many times an invoke that failed on Lambda's side (5xx) is tried again. @default 4 */
  serverRetries?: number;
  /**
   * Where batches and answers over the 6 MB invoke limit go (a `file:` or
   * `s3://` storage URL both sides reach); `null`: nowhere (they are an error).
   * @default config `storage.url` (`SKYPOOL_STORAGE`), else nowhere
   */
  storage?: string | null;
}

/** What the channel counted. */
export interface LambdaChannelStats {
  /** Invoke requests sent (retries included). */
  invokes: number;
  /** Invokes tried again after a 429 or a 5xx. */
  retries: number;
  /** Invokes that ran in a new execution environment (a cold start). */
  coldStarts: number;
}

const UTF8 = new TextDecoder();

/** Waits between retries of a throttled or failed invoke (see `retryDelay`). */
const BACKOFF: Backoff = { baseMs: 100, maxMs: 10_000, retryAfterMaxMs: 60_000 };

/** The `Retry-After` header of an SDK error's answer, if any. */
function retryAfterOf(err: unknown): string | undefined {
  return (err as { $response?: { headers?: Record<string, string> } })?.$response?.headers?.["retry-after"];
}

/**
 * Carries sealed batches to a Lambda function and its answers back.
 *
 * @example
 * ```ts ignore
 * import { LambdaChannel } from "./src/transport/lambda.ts";
 * import { RemoteTransport } from "./src/remote/remote_transport.ts";
 * const transport = new RemoteTransport(new LambdaChannel({ functionName: "skypool", concurrency: 50 }), { size: 50 });
 * ```
 */
export class LambdaChannel implements BatchChannel {
  /** The transport's name. */
  readonly name = "lambda";
  /** What it counted so far. */
  readonly stats: LambdaChannelStats = { invokes: 0, retries: 0, coldStarts: 0 };
  readonly #functionName: string;
  readonly #concurrency: number;
  readonly #options: LambdaChannelOptions;
  #client?: Promise<LambdaClient>;
  readonly #terminate = new AbortController();
  readonly #storage: Storage | undefined;
  /** Encoded task bytes per batch: larger chunks are cut (see `LAMBDA_BATCH_BUDGET`). */
  readonly maxBatchBytes: number = LAMBDA_BATCH_BUDGET;

  /**
   * A channel that invokes the function `options.functionName` (default:
   * config `lambda.functionName`) once per batch.
   *
   * @throws {TypeError|RangeError} on a bad option, a storage URL that is not `file:` or `s3://`.
   */
  constructor(options: LambdaChannelOptions = {}) {
    this.#options = checkOptions<LambdaChannelOptions>("lambda transport options", options, ["functionName", "concurrency", "client", "throttleRetries", "serverRetries", "storage"]);
    this.#functionName = options.functionName ?? config.get().lambda.functionName;
    this.#concurrency = checkInteger("lambda transport concurrency", options.concurrency ?? 100, { min: 1 });
    const url = options.storage === undefined ? config.get().storage.url : options.storage ?? undefined;
    if (url !== undefined) {
      const scheme = storageScheme(url);
      if (scheme !== "file" && scheme !== "s3") {
        throw new TypeError(`lambda transport storage must be a file: or s3:// URL both the caller and the function can write, got ${JSON.stringify(url)}`);
      }
      this.#storage = new Storage(url);
    }
  }

  /** Makes the client (the SDK loads here, not at import). */
  async start(): Promise<void> {
    await this.#connect();
  }

  #connect(): Promise<LambdaClient> {
    // The SDK's Node handler allows 50 sockets unless told otherwise; and
    // without noDelay, Nagle holds a small invoke's body until the headers
    // are acknowledged (40 ms of delayed ACK per invoke on Linux).
    // node:http and node:https load here, with the SDK: at import they cost
    // Deno's Node-compatibility layer a few milliseconds for nothing.
    const agent = { keepAlive: true, maxSockets: this.#concurrency, noDelay: true };
    return this.#client ??= Promise.all([import("node:http"), import("node:https")]).then(([http, https]) =>
      makeLambdaClient({
        requestHandler: { httpAgent: new http.Agent(agent), httpsAgent: new https.Agent(agent) },
        // This channel retries itself, so that every retry is counted and bounded.
        maxAttempts: 1,
        ...this.#options.client,
      } as LambdaClientOptions)
    );
  }

  /** Where an answer too large for the invoke goes: an object next to the batch's, when storage is configured. */
  answerUrl(batchId: string): string | undefined {
    return this.#storage === undefined ? undefined : this.#storage.objectUrl(this.#objectKey(batchId, "answer"));
  }

  /** This run's key for batch `batchId`'s stored batch or answer, in skypool's namespace (so that `skypool clean` finds leftovers). */
  #objectKey(batchId: string, what: "batch" | "answer"): string {
    return `${storageNamespace(config.get().redis.prefix, sessionId())}lambda/${batchId}.${what}`;
  }

  /**
   * Invokes the function with one sealed batch: inline when it fits, else
   * through storage by reference; an answer over the limit comes back the
   * same way. The stored objects are deleted once the invoke ended.
   * @throws {SkypoolError} for a batch over the payload limit with no storage configured, an unknown function, missing credentials.
   * @throws {TimeoutError} when the function timed out.
   * @throws {WorkerLostError} when its runtime exited or still failed after the retries.
   */
  async send(sealed: Uint8Array, info: SendInfo, signal: AbortSignal): Promise<Uint8Array> {
    const stored: string[] = [];
    try {
      const inline = inlineBase64(sealed);
      let event: LambdaBatchEvent;
      if (inline !== undefined) event = { batch: inline };
      else {
        const storage = this.#storage;
        if (storage === undefined) {
          throw new SkypoolError(
            `a batch of ${sealed.length} bytes is over Lambda's ${LAMBDA_PAYLOAD_LIMIT}-byte invoke limit once encoded, and no storage is configured ` +
              `to pass it by reference: set config storage.url (SKYPOOL_STORAGE) to an s3:// URL the function can read and write, or use a smaller chunksize`,
          );
        }
        const key = this.#objectKey(info.batchId, "batch");
        stored.push(key);
        await storage.put(key, sealed);
        event = { batchUrl: storage.objectUrl(key) };
      }
      const answer = await this.#invoke(nodeBuffer().from(JSON.stringify(event)), signal);
      if (answer.stored !== true) return nodeBuffer().from(answer.result!, "base64");
      const key = this.#objectKey(info.batchId, "answer");
      stored.push(key);
      if (this.#storage === undefined) throw new WorkerLostError(`Lambda function ${JSON.stringify(this.#functionName)} stored its answer, but this caller has no storage`);
      return await this.#storage.get(key);
    } finally {
      // Best effort: what a dead process leaves, `skypool clean` removes.
      if (stored.length > 0) await this.#storage?.delete(...stored).catch(() => {});
    }
  }

  /** One invoke, retried on throttling and on Lambda's own failures; the handler's answer. */
  async #invoke(payload: Uint8Array, signal: AbortSignal): Promise<LambdaBatchAnswer> {
    // Not `AbortSignal.any` per invoke (a measurable part of an invoke's
    // CPU): `terminate` destroys the client, which fails the requests in
    // flight, and the transport aborts `signal` when it terminates.
    const stopped = this.#terminate.signal;
    const [client, sdk] = await Promise.all([this.#connect(), loadLambdaSdk()]);
    const fn = this.#functionName;
    for (let throttled = 0, failed = 0;;) {
      if (stopped.aborted) throw stopped.reason;
      this.stats.invokes++;
      let answer;
      try {
        answer = await client.send(new sdk.InvokeCommand({ FunctionName: fn, InvocationType: "RequestResponse", Payload: payload }), { abortSignal: signal });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (stopped.aborted) throw stopped.reason;
        const status = httpStatus(err);
        const isThrottle = status === 429 || (err as Error)?.name === "TooManyRequestsException";
        const isServer = status !== undefined && status >= 500;
        if ((isThrottle && throttled++ < (this.#options.throttleRetries ?? 100)) || (isServer && failed++ < (this.#options.serverRetries ?? 4))) {
          this.stats.retries++;
          await abortableSleep(retryDelay(retryAfterOf(err), (isThrottle ? throttled : failed) - 1, BACKOFF), signal);
          continue;
        }
        if (isThrottle) {
          throw new WorkerLostError(
            `Lambda function ${JSON.stringify(fn)} was still throttled after ${throttled - 1} retries: lower processes (invokes in flight), or raise the function's or the account's concurrency limit`,
            { cause: err },
          );
        }
        const described = describeAwsError(err, fn);
        if (described instanceof SkypoolError) throw described;
        throw new WorkerLostError(`the invoke of Lambda function ${JSON.stringify(fn)} failed: ${(err as Error)?.message ?? err}`, { cause: err });
      }
      const text = UTF8.decode(answer.Payload ?? new Uint8Array());
      if (answer.FunctionError) throw functionError(fn, text, this.#storage !== undefined);
      let parsed: Partial<LambdaBatchAnswer>;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = {};
      }
      if (typeof parsed.result !== "string" && parsed.stored !== true) {
        throw new WorkerLostError(`Lambda function ${JSON.stringify(fn)} did not answer as skypool's handler does: is it a skypool runtime? (skypool runtime deploy)`);
      }
      if (parsed.cold) this.stats.coldStarts++;
      return parsed as LambdaBatchAnswer;
    }
  }

  /** Releases the client once sends have settled (the transport waits for them). */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) (await client.catch(() => undefined))?.destroy();
    await this.#storage?.close();
  }

  /** Aborts pending sends and releases the client. */
  async terminate(): Promise<void> {
    this.#terminate.abort(new WorkerLostError("the lambda transport was terminated"));
    await this.close();
  }
}

/** The error of a function error answer (`X-Amz-Function-Error`), by the runtime's `errorType`. */
function functionError(fn: string, body: string, hasStorage: boolean): Error {
  let e: { errorType?: string; errorMessage?: string; trace?: string[] } = {};
  try {
    e = JSON.parse(body);
  } catch {
    e = { errorMessage: body };
  }
  const what = `Lambda function ${JSON.stringify(fn)}`;
  switch (e.errorType) {
    case "Sandbox.Timedout":
      return new TimeoutError(`${what} timed out: ${e.errorMessage} (its timeout is set by skypool runtime deploy --timeout, lambda.timeout)`);
    case "Runtime.ExitError":
      return new WorkerLostError(`${what} lost its runtime: ${e.errorMessage}`);
    case "Function.ResponseSizeTooLarge":
      return new SkypoolError(
        `${what}: the batch's results are over Lambda's ${LAMBDA_PAYLOAD_LIMIT}-byte limit` +
          (hasStorage ? ` (${e.errorMessage})` : `, and no storage is configured to return them by reference: set config storage.url (SKYPOOL_STORAGE) to an s3:// URL the function can read and write, or use a smaller chunksize`),
      );
  }
  const error = new WorkerLostError(`${what} failed outside the batch: ${e.errorType ?? "Error"}: ${e.errorMessage ?? ""}`);
  if (e.trace?.length) error.stack = `${error.stack}\nRemote stack:\n${e.trace.join("\n")}`;
  return error;
}

/**
 * The `lambda` transport: `processes` batches in flight (default 100) on
 * the function of config `lambda.functionName`.
 *
 * @example
 * ```ts ignore
 * import { lambdaTransport } from "./src/transport/lambda.ts";
 * const t = lambdaTransport({ processes: 200 });
 * ```
 * @throws {SkypoolError} when no authkey is configured explicitly.
 */
export function lambdaTransport(options: { processes?: number; channel?: LambdaChannelOptions } = {}): RemoteTransport {
  const size = options.processes ?? options.channel?.concurrency ?? 100;
  return new RemoteTransport(new LambdaChannel({ ...options.channel, concurrency: size }), { size });
}
