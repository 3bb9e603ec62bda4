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
import { Buffer } from "node:buffer";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { config } from "../config.ts";
import { SkypoolError, TimeoutError, WorkerLostError } from "../errors.ts";
import type { BatchChannel, SendInfo } from "../remote/batch_channel.ts";
import { describeAwsError, httpStatus, type LambdaClient, type LambdaClientOptions, loadLambdaSdk, makeLambdaClient } from "../remote/lambda_client.ts";
import type { LambdaBatchAnswer } from "../remote/lambda_handler.ts";
import { RemoteTransport } from "../remote/remote_transport.ts";
import { checkInteger, checkOptions } from "../validate.ts";
import { abortableSleep } from "../remote/abortable_sleep.ts";

/** A synchronous invoke carries at most this many bytes each way. */
export const LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024;

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

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 10_000;

/** The wait (ms) before retry number `attempt` (1-based): at least `Retry-After`, else exponential; with jitter. */
function retryDelay(err: unknown, attempt: number): number {
  const header = (err as { $response?: { headers?: Record<string, string> } })?.$response?.headers?.["retry-after"];
  const after = header !== undefined && Number.isFinite(Number(header)) ? Number(header) * 1000 : undefined;
  const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  // Jitter spreads the throttled invokes so that they do not all return at once.
  return (after ?? backoff) * (1 + Math.random() * 0.25);
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

  /**
   * A channel that invokes the function `options.functionName` (default:
   * config `lambda.functionName`) once per batch.
   *
   * @throws {TypeError|RangeError} on a bad option.
   */
  constructor(options: LambdaChannelOptions = {}) {
    this.#options = checkOptions<LambdaChannelOptions>("lambda transport options", options, ["functionName", "concurrency", "client", "throttleRetries", "serverRetries"]);
    this.#functionName = options.functionName ?? config.get().lambda.functionName;
    this.#concurrency = checkInteger("lambda transport concurrency", options.concurrency ?? 100, { min: 1 });
  }

  /** Makes the client (the SDK loads here, not at import). */
  async start(): Promise<void> {
    await this.#connect();
  }

  #connect(): Promise<LambdaClient> {
    // The SDK's Node handler allows 50 sockets unless told otherwise; and
    // without noDelay, Nagle holds a small invoke's body until the headers
    // are acknowledged (40 ms of delayed ACK per invoke on Linux).
    const agent = { keepAlive: true, maxSockets: this.#concurrency, noDelay: true };
    return this.#client ??= makeLambdaClient({
      requestHandler: { httpAgent: new HttpAgent(agent), httpsAgent: new HttpsAgent(agent) },
      // This channel retries itself, so that every retry is counted and bounded.
      maxAttempts: 1,
      ...this.#options.client,
    } as LambdaClientOptions);
  }

  /**
   * Invokes the function with one sealed batch.
   * @throws {SkypoolError} for a batch over the payload limit, an unknown function, missing credentials.
   * @throws {TimeoutError} when the function timed out.
   * @throws {WorkerLostError} when its runtime exited or still failed after the retries.
   */
  async send(sealed: Uint8Array, _info: SendInfo, signal: AbortSignal): Promise<Uint8Array> {
    const payload = Buffer.from(JSON.stringify({ batch: Buffer.from(sealed).toString("base64") }));
    if (payload.length > LAMBDA_PAYLOAD_LIMIT) {
      throw new SkypoolError(
        `a batch of ${sealed.length} bytes is over Lambda's ${LAMBDA_PAYLOAD_LIMIT}-byte invoke limit once encoded: use a smaller chunksize, or pass large data through Storage`,
      );
    }
    const both = AbortSignal.any([signal, this.#terminate.signal]);
    const [client, sdk] = await Promise.all([this.#connect(), loadLambdaSdk()]);
    const fn = this.#functionName;
    for (let throttled = 0, failed = 0;;) {
      this.stats.invokes++;
      let answer;
      try {
        answer = await client.send(new sdk.InvokeCommand({ FunctionName: fn, InvocationType: "RequestResponse", Payload: payload }), { abortSignal: both });
      } catch (err) {
        if (both.aborted) throw both.reason;
        const status = httpStatus(err);
        const isThrottle = status === 429 || (err as Error)?.name === "TooManyRequestsException";
        const isServer = status !== undefined && status >= 500;
        if ((isThrottle && throttled++ < (this.#options.throttleRetries ?? 100)) || (isServer && failed++ < (this.#options.serverRetries ?? 4))) {
          this.stats.retries++;
          await abortableSleep(retryDelay(err, isThrottle ? throttled : failed), both);
          continue;
        }
        if (isThrottle) throw new WorkerLostError(`Lambda function ${JSON.stringify(fn)} was still throttled after ${throttled - 1} retries`, { cause: err });
        const described = describeAwsError(err, fn);
        if (described instanceof SkypoolError) throw described;
        throw new WorkerLostError(`the invoke of Lambda function ${JSON.stringify(fn)} failed: ${(err as Error)?.message ?? err}`, { cause: err });
      }
      const text = new TextDecoder().decode(answer.Payload ?? new Uint8Array());
      if (answer.FunctionError) throw functionError(fn, text);
      let parsed: Partial<LambdaBatchAnswer>;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = {};
      }
      if (typeof parsed.result !== "string") {
        throw new WorkerLostError(`Lambda function ${JSON.stringify(fn)} did not answer as skypool's handler does: is it a skypool runtime? (skypool runtime deploy)`);
      }
      if (parsed.cold) this.stats.coldStarts++;
      return Buffer.from(parsed.result, "base64");
    }
  }

  /** Releases the client once sends have settled (the transport waits for them). */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) (await client.catch(() => undefined))?.destroy();
  }

  /** Aborts pending sends and releases the client. */
  async terminate(): Promise<void> {
    this.#terminate.abort(new WorkerLostError("the lambda transport was terminated"));
    await this.close();
  }
}

/** The error of a function error answer (`X-Amz-Function-Error`), by the runtime's `errorType`. */
function functionError(fn: string, body: string): Error {
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
      return new SkypoolError(`${what}: the batch's results are over Lambda's ${LAMBDA_PAYLOAD_LIMIT}-byte limit: use a smaller chunksize, or return large data through Storage`);
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
