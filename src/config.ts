/**
 * skypool's configuration: programmatic settings first, then environment
 * variables, then a JSON config file, then defaults.
 *
 * @module
 */
import { fs } from "./runtime/builtins.ts";
import {
  booleanOption,
  checkUpdate,
  choiceOption,
  defaultsOf,
  fromEnv,
  group,
  type GroupSpec,
  integerOption,
  isGroup,
  nullable,
  optional,
  type OptionSpec,
  recordOption,
  type Schema,
  stringListOption,
  stringOption,
} from "./config_options.ts";
import { MAX_TIMER_MS, show } from "./validate.ts";
import type { S3Options } from "./storage/s3_options.ts";

/** Every setting skypool reads. */
export interface SkypoolConfig {
  /**
   * `commandTimeoutMs`: how long a Redis command may go without a reply
   * before it fails with a `StateError` (a frozen or unreachable server).
   */
  redis: { url?: string; prefix: string; commandTimeoutMs: number };
  /** Default transport for `Pool` and `FunctionExecutor`. */
  transport: string;
  /** How long (ms) a dead holder keeps a `Lock` or `Semaphore` slot. */
  leaseMs: number;
  /** Seconds every Redis key lives after its last use. */
  redisExpiryTime: number;
  /** How `Pipe` carries messages: `"redislist"` or `"redisstream"`. */
  pipeConnectionType: "redislist" | "redisstream";
  /** Stream worker stdout to the caller's terminal. */
  streamStdout: boolean;
  /** Extra environment variables for workers. */
  envVars: Record<string, string>;
  /** A folder where each `FunctionExecutor` writes its timeline and histogram SVGs when disposed, or `null` (`Pool` writes none: its tasks carry no per-call timings). */
  exportExecutionDetails: string | null;
  /** The Lithops executor configuration, passed through. */
  lithopsConfig: Record<string, unknown>;
  /**
   * The secret that signs records carrying code or a Redis location (see
   * `src/task/authkey.ts`); at least 16 characters. Unset, each program
   * makes a random one and shares it with its own workers only.
   */
  authkey?: string;
  /** How many more times `FunctionExecutor` tries a call that threw or lost its worker. */
  retries: number;
  /** Default `Storage` URL (`SKYPOOL_STORAGE`) and the S3 client settings. */
  storage: { url?: string; s3: S3Options };
  /**
   * The `lambda` transport and `skypool runtime`: the function batches are
   * sent to (`SKYPOOL_LAMBDA_FUNCTION`), and what `skypool runtime deploy`
   * creates it with: memory (MB), timeout (s) and the IAM role's ARN.
   */
  lambda: { functionName: string; memory: number; timeout: number; role?: string };
  /**
   * The `fleet` transport: `queue`, the Redis Stream its batches go to
   * (workers serve one queue); `maxDeliveries`, how many times a batch is
   * handed to a worker before it fails with `WorkerLostError`.
   */
  fleet: { queue: string; maxDeliveries: number };
  /**
   * How `task(moduleUrl)` is bundled for remote transports: `external`
   * names the packages left as imports, which workers resolve from their
   * own `node_modules` (`SKYPOOL_BUNDLE_EXTERNAL`, comma-separated).
   */
  bundle: { external: string[] };
  /**
   * The `http` transport: `url` of the worker endpoint (`SKYPOOL_HTTP_URL`);
   * `concurrency`, batches in flight when a pool gives no `processes`;
   * `timeoutMs`, how long one call may take; `retries`, how many more times
   * a call answered 429 or 503 is sent (after its `Retry-After`).
   */
  http: { url?: string; concurrency: number; timeoutMs: number; retries: number };
}

/** A partial, nested update for {@link SkypoolConfig}. */
export type ConfigUpdate = {
  [K in keyof SkypoolConfig]?: SkypoolConfig[K] extends Record<string, unknown>
    ? Partial<SkypoolConfig[K]>
    : SkypoolConfig[K];
};

/**
 * Every option, declared once: its kind, range, default and environment
 * variable. `config.set`, the config file and the environment are all
 * checked against it. To add an option, add it to {@link SkypoolConfig}
 * and here.
 */
const SCHEMA: Schema<SkypoolConfig> = {
  redis: group({
    url: optional(stringOption({
      default: "",
      env: "SKYPOOL_REDIS_URL",
      pattern: /^(?:rediss?|unix|redis\+unix|rediss?\+cluster):\/\/./,
      rule: "a redis://, rediss://, unix:// or redis+cluster:// URL",
      redact: redactPassword,
    })),
    prefix: stringOption({
      default: "skypool",
      // It starts every key and the SCAN pattern that finds them; braces
      // would move the Redis Cluster hash tag off the object's name.
      pattern: /^[^:\s*?[\]\\{}]+$/,
      rule: "a non-empty string without ':', spaces, braces or glob characters (*?[]\\)",
    }),
    // How long a command may wait for its reply before the connection is
    // taken as dead (a frozen server, a peer that never answers).
    commandTimeoutMs: integerOption({ default: 10_000, env: "SKYPOOL_REDIS_COMMAND_TIMEOUT_MS", min: 1, max: MAX_TIMER_MS }),
  }),
  transport: stringOption({ default: "local", env: "SKYPOOL_TRANSPORT" }),
  // Redis takes whole milliseconds, and the lease is renewed by a timer.
  leaseMs: integerOption({ default: 30_000, env: "SKYPOOL_LEASE_MS", min: 1, max: MAX_TIMER_MS }),
  redisExpiryTime: integerOption({ default: 3600, env: "SKYPOOL_REDIS_EXPIRY_TIME", min: 1 }),
  pipeConnectionType: choiceOption({
    default: "redislist",
    env: "SKYPOOL_PIPE_CONNECTION_TYPE",
    choices: ["redislist", "redisstream"] as const,
  }),
  streamStdout: booleanOption({ default: false }),
  envVars: recordOption<string>({ default: {}, what: "an object of variable names and string values", entry: envEntry }),
  exportExecutionDetails: nullable(stringOption({ default: "", rule: "a folder path (a non-empty string) or null" })),
  lithopsConfig: recordOption({ default: {} }),
  storage: group({
    url: optional(stringOption({
      default: "",
      env: "SKYPOOL_STORAGE",
      pattern: /^(?:file:|s3:\/\/|https?:\/\/)./,
      rule: "a file:, s3:// or http(s):// URL",
    })),
    // Passed to the S3 client as they are: every S3ClientConfig field is allowed.
    s3: recordOption({ default: {}, what: "an object of S3 client settings" }) as OptionSpec<S3Options>,
  }),
  // Lambda's own limits: 128 MB to 10 240 MB, 1 s to 900 s.
  lambda: group({
    functionName: stringOption({
      default: "skypool",
      env: "SKYPOOL_LAMBDA_FUNCTION",
      pattern: /^(?:[A-Za-z0-9_-]{1,64}|arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64})$/,
      rule: "a Lambda function name (1-64 letters, digits, '-' or '_') or its ARN",
    }),
    memory: integerOption({ default: 1024, env: "SKYPOOL_LAMBDA_MEMORY", min: 128, max: 10_240 }),
    timeout: integerOption({ default: 300, env: "SKYPOOL_LAMBDA_TIMEOUT", min: 1, max: 900 }),
    role: optional(stringOption({
      default: "",
      env: "SKYPOOL_LAMBDA_ROLE",
      pattern: /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
      rule: "an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
    })),
  }),
  bundle: group({
    external: stringListOption({
      default: [],
      env: "SKYPOOL_BUNDLE_EXTERNAL",
      pattern: /^(?:@[^/@\s]+\/)?[^/@\s.][^/@\s]*$/,
      rule: 'a package name ("pkg" or "@scope/pkg")',
    }),
  }),
  http: group({
    url: optional(stringOption({ default: "", env: "SKYPOOL_HTTP_URL", pattern: /^https?:\/\/./, rule: "an http:// or https:// URL" })),
    concurrency: integerOption({ default: 16, env: "SKYPOOL_HTTP_CONCURRENCY", min: 1, max: 10_000 }),
    timeoutMs: integerOption({ default: 900_000, env: "SKYPOOL_HTTP_TIMEOUT_MS", min: 1, max: MAX_TIMER_MS }),
    retries: integerOption({ default: 5, env: "SKYPOOL_HTTP_RETRIES", min: 0, max: 100 }),
  }),
  // Lithops' retries: how many more times a call that threw or lost its worker is tried.
  retries: integerOption({ default: 0, env: "SKYPOOL_RETRIES", min: 0, max: 100 }),
  fleet: group({
    queue: stringOption({ default: "default", env: "SKYPOOL_FLEET_QUEUE", pattern: /^[^\s*?[\]\\]+$/, rule: "a non-empty string without spaces or glob characters (*?[]\\)" }),
    // A batch that killed every worker it reached must not go round forever.
    maxDeliveries: integerOption({ default: 3, env: "SKYPOOL_FLEET_MAX_DELIVERIES", min: 1, max: 1000 }),
  }),
  // Shorter keys are too easy to guess for a MAC to mean anything; the key
  // itself never appears in a message.
  authkey: optional(stringOption({
    default: "",
    env: "SKYPOOL_AUTHKEY",
    pattern: /^[\s\S]{16,}$/,
    rule: "a string of at least 16 characters",
    redact: (key) => `(a key of ${key.length} characters)`,
  })),
};

/** A URL with its password (user-info or `password=` parameter) masked, for messages. */
function redactPassword(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@").replace(/([?&]password=)[^&]*/gi, "$1***");
}

/** An entry of `envVars`: a name a process environment can hold, and a string. */
function envEntry(key: string, value: unknown, name: string): string {
  if (key === "" || key.includes("=") || key.includes("\0")) {
    throw new RangeError(`${name}: ${JSON.stringify(key)} is not a valid environment variable name (empty, or with '=' or NUL)`);
  }
  if (typeof value !== "string") throw new TypeError(`${name} must be a string, got ${show(value)}`);
  if (value.includes("\0")) throw new RangeError(`${name} must not contain a NUL character`);
  return value;
}

const DEFAULTS: SkypoolConfig = defaultsOf(SCHEMA);

let programmatic: ConfigUpdate = {};

// The effective config is computed once and kept until `set` or `reset`:
// it is read on hot paths (every Redis call), where even reading the
// environment variables again costs more than the call itself. So the
// environment and the config file are read on first use and after
// `config.reset()`.
let cachedEffective: SkypoolConfig | undefined;

function env(name: string): string | undefined {
  try {
    const v = globalThis.process?.env?.[name];
    return v === undefined || v === "" ? undefined : v;
  } catch {
    // Deno without --allow-env: treat the environment as empty.
    return undefined;
  }
}

// The file is read once per path: `config.get()` runs on hot paths (every
// Redis script call), and a stat per call costs more than the call itself.
const fileCache = new Map<string, ConfigUpdate>();

function fromFile(): ConfigUpdate {
  const path = env("SKYPOOL_CONFIG") ?? "skypool.config.json";
  const cached = fileCache.get(path);
  if (cached) return cached;
  let update: ConfigUpdate = {};
  let exists = false;
  try {
    exists = fs().existsSync(path);
  } catch {
    // No read permission (Deno without --allow-read): no config file.
  }
  if (exists) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs().readFileSync(path, "utf8"));
    } catch (err) {
      throw new TypeError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
    }
    try {
      update = checkUpdate(SCHEMA, parsed, "config") as ConfigUpdate;
    } catch (err) {
      const E = err instanceof RangeError ? RangeError : TypeError;
      throw new E(`config file ${path}: ${(err as Error).message}`);
    }
  }
  fileCache.set(path, update);
  return update;
}

function merge(base: SkypoolConfig, update: ConfigUpdate): SkypoolConfig {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(update)) {
    if (v === undefined) continue;
    const spec = (SCHEMA as Record<string, OptionSpec<unknown> | GroupSpec<unknown>>)[k];
    out[k] = spec !== undefined && isGroup(spec) ? { ...(out[k] as object), ...(v as object) } : v;
  }
  return out as unknown as SkypoolConfig;
}

// The cached config is shared by every caller, so nobody may change it.
function freeze(cfg: SkypoolConfig): SkypoolConfig {
  for (const v of Object.values(cfg)) if (v && typeof v === "object") Object.freeze(v);
  return Object.freeze(cfg);
}

/** The name of a Lithops-style parameter accepted by {@link config.setParameter}. */
export type ParameterName =
  | "LITHOPS_CONFIG"
  | "STREAM_STDOUT"
  | "REDIS_EXPIRY_TIME"
  | "PIPE_CONNECTION_TYPE"
  | "ENV_VARS"
  | "EXPORT_EXECUTION_DETAILS";

/** The configuration option each Lithops-style parameter sets. */
const PARAMETERS: Readonly<Record<ParameterName, keyof SkypoolConfig>> = {
  LITHOPS_CONFIG: "lithopsConfig",
  STREAM_STDOUT: "streamStdout",
  REDIS_EXPIRY_TIME: "redisExpiryTime",
  PIPE_CONNECTION_TYPE: "pipeConnectionType",
  ENV_VARS: "envVars",
  EXPORT_EXECUTION_DETAILS: "exportExecutionDetails",
};

/**
 * Reads and changes skypool's configuration.
 *
 * @example
 * ```ts
 * import { config } from "./mod.ts";
 * config.set({ leaseMs: 10_000 });
 * config.setParameter(config.REDIS_EXPIRY_TIME, 600);
 * console.assert(config.get().redisExpiryTime === 600);
 * config.reset();
 * ```
 */
export const config = {
  LITHOPS_CONFIG: "LITHOPS_CONFIG" as const,
  STREAM_STDOUT: "STREAM_STDOUT" as const,
  REDIS_EXPIRY_TIME: "REDIS_EXPIRY_TIME" as const,
  PIPE_CONNECTION_TYPE: "PIPE_CONNECTION_TYPE" as const,
  ENV_VARS: "ENV_VARS" as const,
  EXPORT_EXECUTION_DETAILS: "EXPORT_EXECUTION_DETAILS" as const,

  /**
   * Sets configuration programmatically (highest precedence); nested
   * objects such as `redis` are merged. Nothing is set unless every
   * value is valid.
   * @throws {TypeError} for an unknown option or a value of the wrong type.
   * @throws {RangeError} for a value out of range (each message names the option, e.g. `config.redis.prefix`).
   */
  set(update: ConfigUpdate): void {
    const checked = checkUpdate(SCHEMA, update, "config") as ConfigUpdate;
    programmatic = merge(programmatic as SkypoolConfig, checked) as ConfigUpdate;
    cachedEffective = undefined;
  },

  /**
   * The effective configuration: programmatic, environment, file, defaults.
   * The environment and file are read on first use and again after
   * {@link config.reset}.
   */
  get(): SkypoolConfig {
    cachedEffective ??= freeze(merge(merge(merge(DEFAULTS, fromFile()), fromEnv(SCHEMA, env) as ConfigUpdate), programmatic));
    return cachedEffective;
  },

  /**
   * Sets one Lithops-style parameter (`config.REDIS_EXPIRY_TIME`, …).
   * @throws {TypeError} for an unknown parameter name.
   */
  setParameter(name: ParameterName, value: unknown): void {
    const key = PARAMETERS[name];
    if (key === undefined) {
      throw new TypeError(`unknown parameter ${JSON.stringify(name)}; expected one of ${Object.keys(PARAMETERS).join(", ")}`);
    }
    config.set({ [key]: value } as ConfigUpdate);
  },

  /** Drops every programmatic setting and reads the environment and file again. */
  reset(): void {
    programmatic = {};
    cachedEffective = undefined;
    fileCache.clear();
  },
};
