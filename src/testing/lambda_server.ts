/**
 * An AWS Lambda Invoke-API test server, written from the API reference, for
 * testing Lambda code offline: the real `@aws-sdk/client-lambda` (with its
 * `endpoint` set to the server's) creates, updates, lists, deletes and
 * invokes functions on it. Deployed zips are unpacked into a temp folder
 * and their Node handler runs in warm child processes, one per concurrent
 * execution, reused; a new one pays a simulated cold start.
 *
 * What it does as Lambda does: `Pending` → `Active` after create and
 * update; `RequestResponse` (200, 6 MB each way), `Event` (202, 1 MB,
 * queued), `DryRun` (204); 413 `RequestTooLargeException` past the limits;
 * a function error is 200 with `X-Amz-Function-Error: Unhandled` and the
 * Node runtime's `{errorType, errorMessage, trace}`; past the concurrency
 * limit, 429 `TooManyRequestsException` with `Retry-After`; the function's
 * timeout (`Sandbox.Timedout`) and a handler that exits
 * (`Runtime.ExitError`). What it does not: authentication (any signature is
 * accepted), versions and aliases, layers, code from S3, container images.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, normalize, sep } from "node:path";
import process from "node:process";
import { createHash, randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";
import { unzipSync } from "npm:fflate@^0.8.3";
import { checkInteger, checkOptions } from "../validate.ts";
import { type LambdaErrorBody, Sandbox, type SandboxResult, writeBootstrap } from "./lambda_sandbox.ts";

/** Settings of {@link startLambdaServer}. */
export interface LambdaServerOptions {
  /**
   * The TCP port; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * The address it listens on.
   * @default "127.0.0.1"
   */
  hostname?: string;
  /**
   * Concurrent executions across all functions (Lambda's account limit,
   * 1000 on AWS); an invoke past it is answered 429.
   * @default 10
   */
  concurrency?: number;
  /**
   * The simulated cold start (ms) a new execution environment adds to its
   * first invocation, on top of starting its Node process.
   * @default 0
   */
  coldStartMs?: number;
  /**
   * How long (ms) a created or updated function stays `Pending` /
   * `InProgress` before it turns `Active` / `Successful`.
   * @default 100
   */
  activationMs?: number;
  /**
   * The `Retry-After` (seconds, may be fractional) of a 429 answer.
   * @default 1
   */
  retryAfterSeconds?: number;
  /**
   * Execution environments to start (processes only: each still pays
   * `coldStartMs` on first use) when a function is created or updated, so
   * that a benchmark measures the cold start it asks for rather than this
   * machine's process start-up.
   * @default 0
   */
  prewarm?: number;
  /**
   * Show functions' logs (their stdout and stderr) on this process's stderr.
   * @default false
   */
  showLogs?: boolean;
  /**
   * The region in the functions' ARNs and `AWS_REGION`.
   * @default "us-east-1"
   */
  region?: string;
}

/** Counters of what the server did, for tests and benchmarks. */
export interface LambdaServerStats {
  /** Invoke requests that ran a handler (all invocation types but `DryRun`). */
  invocations: number;
  /** Invoke requests answered 429. */
  throttled: number;
  /** Invocations that ran in a new execution environment. */
  coldStarts: number;
  /** Execution environments started so far. */
  environments: number;
  /** Execution environments whose handler loaded (their Init phase passed). */
  initialized: number;
  /** The most invocations that ran at once. */
  peakConcurrency: number;
}

/** A running test server. */
export interface LambdaServer {
  /** `http://host:port`: the client's `endpoint` (or `AWS_ENDPOINT_URL_LAMBDA`). */
  readonly endpoint: string;
  /** What it has done so far (a snapshot). */
  stats(): LambdaServerStats;
  /** Stops listening, kills every execution environment and removes the unpacked code. */
  close(): Promise<void>;
}

const ACCOUNT = "123456789012";
const MB = 1024 * 1024;
/** Invoke payload limits (bytes): request and response of `RequestResponse`, and `Event`. */
const SYNC_LIMIT = 6 * MB;
const EVENT_LIMIT = 1 * MB;
/** Unpacked code limit (250 MB) and the largest API request body read (a base64 50 MB zip). */
const UNZIPPED_LIMIT = 250 * MB;
const API_BODY_LIMIT = 70 * MB;

interface FunctionRecord {
  config: Record<string, unknown> & { FunctionName: string; FunctionArn: string; Handler: string; Timeout: number; MemorySize: number };
  tags: Record<string, string>;
  eventInvokeConfig?: Record<string, unknown>;
  taskRoot: string;
  codeVersion: number;
  /** Idle environments of the current code. */
  idle: Sandbox[];
  all: Set<Sandbox>;
  activation?: ReturnType<typeof setTimeout>;
}

/** An API error: its HTTP status, `x-amzn-ErrorType` and message. */
class ApiError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

/**
 * Starts the server. Its execution environments run on Node (`node` on the
 * `PATH` when the server runs under Deno).
 *
 * @example
 * ```ts
 * import { startLambdaServer } from "./src/testing/lambda_server.ts";
 * const server = await startLambdaServer({ concurrency: 4 });
 * console.assert(server.endpoint.startsWith("http://127.0.0.1:"));
 * await server.close();
 * ```
 * @throws {TypeError|RangeError} on a bad option.
 */
export async function startLambdaServer(options: LambdaServerOptions = {}): Promise<LambdaServer> {
  const o = checkOptions<LambdaServerOptions>("startLambdaServer options", options, [
    "port", "hostname", "concurrency", "coldStartMs", "activationMs", "retryAfterSeconds", "prewarm", "showLogs", "region",
  ]);
  const settings = {
    concurrency: checkInteger("startLambdaServer concurrency", o.concurrency ?? 10, { min: 1 }),
    coldStartMs: checkInteger("startLambdaServer coldStartMs", o.coldStartMs ?? 0, { min: 0 }),
    activationMs: checkInteger("startLambdaServer activationMs", o.activationMs ?? 100, { min: 0 }),
    prewarm: checkInteger("startLambdaServer prewarm", o.prewarm ?? 0, { min: 0 }),
    retryAfterSeconds: o.retryAfterSeconds ?? 1,
    showLogs: o.showLogs ?? false,
    region: o.region ?? "us-east-1",
  };
  if (typeof settings.retryAfterSeconds !== "number" || !(settings.retryAfterSeconds >= 0)) {
    throw new RangeError(`startLambdaServer retryAfterSeconds must be a number >= 0, got ${String(o.retryAfterSeconds)}`);
  }
  const lambda = new FunctionHost(settings);
  const server = createServer((req, res) => {
    lambda.handle(req, res).catch((err) => {
      const e = err instanceof ApiError ? err : new ApiError(500, "ServiceException", String((err as Error)?.message ?? err));
      sendJson(res, e.status, { Type: e.status < 500 ? "User" : "Service", message: e.message }, { "x-amzn-ErrorType": e.type });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(checkInteger("startLambdaServer port", o.port ?? 0, { min: 0, max: 65535 }), o.hostname ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${address.port}`,
    stats: () => ({ ...lambda.stats }),
    close: () =>
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections?.();
        await lambda.close();
        await stopped;
      })(),
  };
}

type Settings = Required<Omit<LambdaServerOptions, "port" | "hostname">>;

/** The functions and their execution environments; answers each API call. */
class FunctionHost {
  readonly stats: LambdaServerStats = { invocations: 0, throttled: 0, coldStarts: 0, environments: 0, initialized: 0, peakConcurrency: 0 };
  readonly #settings: Settings;
  readonly #root = mkdtempSync(join(tmpdir(), "skypool-lambda-"));
  readonly #bootstrap: string;
  readonly #functions = new Map<string, FunctionRecord>();
  /** `Event` invocations waiting for a free execution slot. */
  readonly #eventQueue: (() => void)[] = [];
  #running = 0;
  #closing = false;

  constructor(settings: Settings) {
    this.#settings = settings;
    this.#bootstrap = writeBootstrap(this.#root);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
    const method = req.method ?? "GET";
    const [apiVersion, collection, name, sub] = parts;
    if (apiVersion === "2015-03-31" && collection === "functions") {
      if (name === undefined) {
        if (method === "POST") return sendJson(res, 201, this.#create(await readJson(req)));
        if (method === "GET") return sendJson(res, 200, this.#list(url));
      } else if (sub === undefined) {
        if (method === "GET") return sendJson(res, 200, this.#get(name));
        if (method === "DELETE") return this.#delete(name, res);
      } else if (sub === "invocations" && method === "POST") {
        return this.#invoke(this.#find(name), req, res);
      } else if (sub === "configuration") {
        if (method === "GET") return sendJson(res, 200, this.#find(name).config);
        if (method === "PUT") return sendJson(res, 200, this.#updateConfiguration(name, await readJson(req)));
      } else if (sub === "code" && method === "PUT") {
        return sendJson(res, 200, this.#updateCode(name, await readJson(req)));
      }
    } else if (apiVersion === "2019-09-25" && collection === "functions" && name !== undefined && sub === "event-invoke-config") {
      const fn = this.#find(name);
      if (method === "PUT" || method === "POST") {
        fn.eventInvokeConfig = { ...(method === "POST" ? fn.eventInvokeConfig : {}), ...await readJson(req), FunctionArn: fn.config.FunctionArn, LastModified: Date.now() / 1000 };
        return sendJson(res, 200, fn.eventInvokeConfig);
      }
      if (method === "GET") {
        if (!fn.eventInvokeConfig) throw new ApiError(404, "ResourceNotFoundException", `The function ${fn.config.FunctionArn} doesn't have an EventInvokeConfig`);
        return sendJson(res, 200, fn.eventInvokeConfig);
      }
    } else if (apiVersion === "2017-03-31" && collection === "tags" && name !== undefined) {
      const fn = this.#find(name);
      if (method === "GET") return sendJson(res, 200, { Tags: fn.tags });
      if (method === "POST") {
        Object.assign(fn.tags, checkTags((await readJson(req)).Tags));
        res.writeHead(204).end();
        return;
      }
    }
    throw new ApiError(404, "UnknownOperationException", `${method} ${url.pathname} is not an operation this test server implements`);
  }

  #find(nameOrArn: string): FunctionRecord {
    // A name, a partial ARN (account:function:name) or a full ARN, maybe with a qualifier.
    const m = /(?:^|:function:)([A-Za-z0-9_-]+)(?::[^:]+)?$/.exec(nameOrArn);
    const fn = m ? this.#functions.get(m[1]) : undefined;
    if (!fn) {
      throw new ApiError(404, "ResourceNotFoundException", `Function not found: arn:aws:lambda:${this.#settings.region}:${ACCOUNT}:function:${m?.[1] ?? nameOrArn}`);
    }
    return fn;
  }

  #create(body: Record<string, unknown>): Record<string, unknown> {
    const name = body.FunctionName;
    if (typeof name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw new ApiError(400, "InvalidParameterValueException", `FunctionName must be 1 to 64 letters, digits, '-' or '_', got ${JSON.stringify(name)}`);
    }
    if (this.#functions.has(name)) throw new ApiError(409, "ResourceConflictException", `Function already exist: ${name}`);
    if (typeof body.Role !== "string" || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(body.Role)) {
      throw new ApiError(400, "ValidationException", `1 validation error detected: Value '${String(body.Role)}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+`);
    }
    if (typeof body.Runtime !== "string" || !/^nodejs\d+\.x$/.test(body.Runtime)) {
      throw new ApiError(400, "InvalidParameterValueException", `This test server runs Node runtimes only (nodejs20.x, nodejs22.x…), got Runtime ${JSON.stringify(body.Runtime)}`);
    }
    const config = {
      FunctionName: name,
      FunctionArn: `arn:aws:lambda:${this.#settings.region}:${ACCOUNT}:function:${name}`,
      Runtime: body.Runtime,
      Role: body.Role,
      Handler: typeof body.Handler === "string" && body.Handler.includes(".") ? body.Handler : "index.handler",
      Description: body.Description ?? "",
      Timeout: limits("Timeout", body.Timeout ?? 3, 1, 900),
      MemorySize: limits("MemorySize", body.MemorySize ?? 128, 128, 10240),
      Architectures: body.Architectures ?? ["x86_64"],
      Environment: { Variables: checkVariables(body.Environment) },
      Version: "$LATEST",
      PackageType: "Zip",
    };
    const fn: FunctionRecord = { config, tags: checkTags(body.Tags), taskRoot: "", codeVersion: 0, idle: [], all: new Set() };
    this.#installCode(fn, body.Code);
    this.#functions.set(name, fn);
    this.#activate(fn, "State");
    return fn.config;
  }

  #updateCode(name: string, body: Record<string, unknown>): Record<string, unknown> {
    const fn = this.#find(name);
    this.#checkNotUpdating(fn);
    this.#installCode(fn, body);
    this.#activate(fn, "LastUpdateStatus");
    return fn.config;
  }

  #updateConfiguration(name: string, body: Record<string, unknown>): Record<string, unknown> {
    const fn = this.#find(name);
    this.#checkNotUpdating(fn);
    const c = fn.config;
    if (body.Timeout !== undefined) c.Timeout = limits("Timeout", body.Timeout, 1, 900);
    if (body.MemorySize !== undefined) c.MemorySize = limits("MemorySize", body.MemorySize, 128, 10240);
    if (body.Environment !== undefined) c.Environment = { Variables: checkVariables(body.Environment) };
    if (typeof body.Role === "string") c.Role = body.Role;
    if (typeof body.Handler === "string") c.Handler = body.Handler;
    // New settings take new environments, as on Lambda.
    this.#retireEnvironments(fn);
    this.#activate(fn, "LastUpdateStatus");
    return c;
  }

  #checkNotUpdating(fn: FunctionRecord): void {
    if (fn.config.State === "Pending" || fn.config.LastUpdateStatus === "InProgress") {
      throw new ApiError(409, "ResourceConflictException", `The operation cannot be performed at this time. An update is in progress for resource: ${fn.config.FunctionArn}`);
    }
  }

  /** Unpacks `code.ZipFile` (base64) into a fresh folder of `fn`. */
  #installCode(fn: FunctionRecord, code: unknown): void {
    const zip = (code as { ZipFile?: unknown } | undefined)?.ZipFile;
    if (typeof zip !== "string") {
      throw new ApiError(400, "InvalidParameterValueException", "This test server takes code as Code.ZipFile only (no S3 code, no image)");
    }
    const bytes = Buffer.from(zip, "base64");
    const dir = join(this.#root, `${fn.config.FunctionName}-${++fn.codeVersion}`);
    unpackZip(bytes, dir);
    fn.taskRoot = dir;
    this.#retireEnvironments(fn);
    Object.assign(fn.config, {
      CodeSize: bytes.length,
      CodeSha256: hashBase64(bytes),
      LastModified: new Date().toISOString().replace("Z", "+0000"),
      RevisionId: randomUUID(),
    });
  }

  /** Drops `fn`'s idle environments; running ones end after their invocation (the code they ran stays until the server closes). */
  #retireEnvironments(fn: FunctionRecord): void {
    for (const s of fn.idle) {
      s.stop().catch(() => {});
      fn.all.delete(s);
    }
    fn.idle = [];
  }

  /** `Pending`/`InProgress` for `activationMs`, then `Active`/`Successful`, prewarming meanwhile. */
  #activate(fn: FunctionRecord, field: "State" | "LastUpdateStatus"): void {
    Object.assign(fn.config, field === "State"
      ? { State: "Pending", StateReason: "The function is being created.", StateReasonCode: "Creating" }
      : { LastUpdateStatus: "InProgress", LastUpdateStatusReason: "The function is being updated.", LastUpdateStatusReasonCode: "InProgress" });
    for (let i = 0; i < this.#settings.prewarm; i++) {
      const s = this.#newSandbox(fn);
      fn.idle.push(s);
    }
    clearTimeout(fn.activation);
    fn.activation = setTimeout(() => {
      Object.assign(fn.config, { State: "Active", LastUpdateStatus: "Successful" });
      for (const k of ["StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"]) delete fn.config[k];
    }, this.#settings.activationMs);
  }

  #get(name: string): Record<string, unknown> {
    const fn = this.#find(name);
    return {
      Configuration: fn.config,
      Code: { RepositoryType: "S3", Location: `file://${fn.taskRoot}` },
      Tags: fn.tags,
    };
  }

  #list(url: URL): Record<string, unknown> {
    const all = [...this.#functions.values()].map((f) => f.config).sort((a, b) => a.FunctionName.localeCompare(b.FunctionName));
    const start = Number(url.searchParams.get("Marker") ?? 0) || 0;
    const max = Math.min(Number(url.searchParams.get("MaxItems") ?? 50) || 50, 50);
    const page = all.slice(start, start + max);
    return { Functions: page, ...(start + max < all.length ? { NextMarker: String(start + max) } : {}) };
  }

  #delete(name: string, res: ServerResponse): void {
    const fn = this.#find(name);
    this.#functions.delete(fn.config.FunctionName);
    clearTimeout(fn.activation);
    for (const s of fn.all) s.stop().catch(() => {});
    rmSync(fn.taskRoot, { recursive: true, force: true });
    res.writeHead(204).end();
  }

  #newSandbox(fn: FunctionRecord): Sandbox {
    const c = fn.config;
    const s = new Sandbox({
      bootstrap: this.#bootstrap,
      taskRoot: fn.taskRoot,
      handler: c.Handler,
      showLogs: this.#settings.showLogs,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        TZ: ":UTC",
        LANG: "en_US.UTF-8",
        TMPDIR: tmpdir(),
        LAMBDA_TASK_ROOT: fn.taskRoot,
        AWS_REGION: this.#settings.region,
        AWS_DEFAULT_REGION: this.#settings.region,
        AWS_LAMBDA_FUNCTION_NAME: c.FunctionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(c.MemorySize),
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_EXECUTION_ENV: `AWS_Lambda_${String(c.Runtime)}`,
        ...(c.Environment as { Variables: Record<string, string> }).Variables,
      },
    });
    fn.all.add(s);
    this.stats.environments++;
    void s.initialized.then((error) => {
      if (!error) this.stats.initialized++;
    });
    return s;
  }

  async #invoke(fn: FunctionRecord, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    if (!["RequestResponse", "Event", "DryRun"].includes(type)) {
      throw new ApiError(400, "InvalidParameterValueException", `Unsupported invocation type ${JSON.stringify(type)}`);
    }
    if (fn.config.State !== "Active") {
      throw new ApiError(409, "ResourceConflictException", `The operation cannot be performed at this time. The function is currently in the following state: ${String(fn.config.State)}`);
    }
    const limit = type === "Event" ? EVENT_LIMIT : SYNC_LIMIT;
    const body = await readBody(req, limit);
    if (body === undefined) {
      throw new ApiError(413, "RequestTooLargeException", `Request must be smaller than ${limit} bytes for the InvokeFunction operation`);
    }
    const event = body.length === 0 ? "{}" : body.toString("utf8");
    try {
      JSON.parse(event);
    } catch {
      throw new ApiError(400, "InvalidRequestContentException", "Could not parse request body into json: Unexpected character");
    }
    if (type === "DryRun") {
      res.writeHead(204).end();
      return;
    }
    const requestId = randomUUID();
    if (type === "Event") {
      this.#eventQueue.push(() => void this.#run(fn, event, requestId));
      this.#drainEvents();
      res.writeHead(202, { "x-amzn-RequestId": requestId }).end();
      return;
    }
    if (this.#running >= this.#settings.concurrency) {
      this.stats.throttled++;
      res.setHeader("Retry-After", String(this.#settings.retryAfterSeconds));
      throw new ApiError(429, "TooManyRequestsException", "Rate Exceeded.");
    }
    const result = await this.#run(fn, event, requestId);
    const headers: Record<string, string> = { "x-amzn-RequestId": requestId, "X-Amz-Executed-Version": "$LATEST" };
    let payload: string;
    if ("error" in result) {
      headers["X-Amz-Function-Error"] = "Unhandled";
      payload = JSON.stringify(result.error);
    } else if (Buffer.byteLength(result.payload) > SYNC_LIMIT) {
      headers["X-Amz-Function-Error"] = "Unhandled";
      payload = JSON.stringify({
        errorType: "Function.ResponseSizeTooLarge",
        errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_LIMIT} bytes).`,
      } satisfies LambdaErrorBody);
    } else {
      payload = result.payload;
    }
    res.writeHead(200, { ...headers, "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(payload)) });
    res.end(payload);
  }

  #drainEvents(): void {
    while (this.#eventQueue.length > 0 && this.#running < this.#settings.concurrency) this.#eventQueue.shift()!();
  }

  /** Runs one invocation in an idle environment of `fn`'s current code, or a new one. */
  async #run(fn: FunctionRecord, event: string, requestId: string): Promise<SandboxResult> {
    this.#running++;
    this.stats.invocations++;
    this.stats.peakConcurrency = Math.max(this.stats.peakConcurrency, this.#running);
    const taskRoot = fn.taskRoot;
    let sandbox = fn.idle.pop();
    while (sandbox?.gone) sandbox = fn.idle.pop();
    sandbox ??= this.#newSandbox(fn);
    sandbox.busy = true;
    try {
      if (!sandbox.warm) {
        this.stats.coldStarts++;
        sandbox.warm = true;
        if (this.#settings.coldStartMs > 0) await new Promise((r) => setTimeout(r, this.#settings.coldStartMs));
      }
      const c = fn.config;
      return await sandbox.invoke(event, {
        functionName: c.FunctionName,
        functionVersion: "$LATEST",
        invokedFunctionArn: c.FunctionArn,
        memoryLimitInMB: String(c.MemorySize),
        awsRequestId: requestId,
        logGroupName: `/aws/lambda/${c.FunctionName}`,
        logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll("-", "/")}/[$LATEST]${requestId.replaceAll("-", "")}`,
      }, c.Timeout * 1000);
    } finally {
      sandbox.busy = false;
      this.#running--;
      // An environment goes back only if it survived and its code is still current.
      if (!sandbox.gone && !this.#closing && this.#functions.get(fn.config.FunctionName) === fn && fn.taskRoot === taskRoot) {
        fn.idle.push(sandbox);
      } else {
        fn.all.delete(sandbox);
        sandbox.stop().catch(() => {});
      }
      this.#drainEvents();
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#eventQueue.length = 0;
    const stops: Promise<void>[] = [];
    for (const fn of this.#functions.values()) {
      clearTimeout(fn.activation);
      for (const s of fn.all) stops.push(s.stop());
    }
    this.#functions.clear();
    await Promise.all(stops);
    rmSync(this.#root, { recursive: true, force: true });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(text)), "x-amzn-RequestId": randomUUID() });
  res.end(text);
}

/** The request body, or `undefined` when it is longer than `limit` (the rest is drained). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, API_BODY_LIMIT);
  if (body === undefined) throw new ApiError(413, "RequestEntityTooLargeException", `Request must be smaller than ${API_BODY_LIMIT} bytes`);
  try {
    const parsed = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    return parsed;
  } catch {
    throw new ApiError(400, "InvalidRequestContentException", "Could not parse request body into json");
  }
}

function limits(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ApiError(400, "InvalidParameterValueException", `${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkTags(tags: unknown): Record<string, string> {
  if (tags === undefined) return {};
  if (tags === null || typeof tags !== "object" || Object.values(tags).some((v) => typeof v !== "string")) {
    throw new ApiError(400, "InvalidParameterValueException", "Tags must be a map of strings");
  }
  return { ...tags as Record<string, string> };
}

function checkVariables(environment: unknown): Record<string, string> {
  const vars = (environment as { Variables?: unknown } | undefined)?.Variables ?? {};
  if (vars === null || typeof vars !== "object" || Object.values(vars).some((v) => typeof v !== "string")) {
    throw new ApiError(400, "InvalidParameterValueException", "Environment.Variables must be a map of strings");
  }
  return { ...vars as Record<string, string> };
}

function hashBase64(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64");
}

/** Unpacks `zip` into `dir`, refusing entries that would land outside it and code past 250 MB. */
function unpackZip(zip: Uint8Array, dir: string): void {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (err) {
    throw new ApiError(400, "InvalidParameterValueException", `Could not unzip uploaded file. Please check your file, then try to upload again. (${(err as Error).message})`);
  }
  let total = 0;
  for (const data of Object.values(files)) total += data.length;
  if (total > UNZIPPED_LIMIT) {
    throw new ApiError(400, "InvalidParameterValueException", `Unzipped size must be smaller than ${UNZIPPED_LIMIT} bytes`);
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    const path = normalize(join(dir, name));
    if (!path.startsWith(dir + sep)) throw new ApiError(400, "InvalidParameterValueException", `Zip entry ${JSON.stringify(name)} points outside the function's folder`);
    if (name.endsWith("/")) {
      mkdirSync(path, { recursive: true });
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data);
    }
  }
}
