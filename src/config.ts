/**
 * skypool's configuration: programmatic settings first, then environment
 * variables, then a JSON config file, then defaults.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import type { S3Options } from "./storage/s3_options.ts";

/** Every setting skypool reads. */
export interface SkypoolConfig {
  redis: { url?: string; prefix: string };
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
  /** A folder to write execution details into, or `null`. */
  exportExecutionDetails: string | null;
  /** The Lithops executor configuration, passed through. */
  lithopsConfig: Record<string, unknown>;
  /** Default `Storage` URL (`SKYPOOL_STORAGE`) and the S3 client settings. */
  storage: { url?: string; s3: S3Options };
}

/** A partial, nested update for {@link SkypoolConfig}. */
export type ConfigUpdate = {
  [K in keyof SkypoolConfig]?: SkypoolConfig[K] extends Record<string, unknown>
    ? Partial<SkypoolConfig[K]>
    : SkypoolConfig[K];
};

const DEFAULTS: SkypoolConfig = {
  redis: { url: undefined, prefix: "skypool" },
  transport: "local",
  leaseMs: 30_000,
  redisExpiryTime: 3600,
  pipeConnectionType: "redislist",
  streamStdout: false,
  envVars: {},
  exportExecutionDetails: null,
  lithopsConfig: {},
  storage: { url: undefined, s3: {} },
};

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

function positiveNumber(name: string, raw: unknown): number {
  const n = typeof raw === "string" ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function fromEnvironment(): ConfigUpdate {
  const out: ConfigUpdate = {};
  const url = env("SKYPOOL_REDIS_URL");
  if (url) out.redis = { url };
  const transport = env("SKYPOOL_TRANSPORT");
  if (transport) out.transport = transport;
  const lease = env("SKYPOOL_LEASE_MS");
  if (lease) out.leaseMs = positiveNumber("SKYPOOL_LEASE_MS", lease);
  const expiry = env("SKYPOOL_REDIS_EXPIRY_TIME");
  if (expiry) out.redisExpiryTime = positiveNumber("SKYPOOL_REDIS_EXPIRY_TIME", expiry);
  const storage = env("SKYPOOL_STORAGE");
  if (storage) out.storage = { url: storage };
  const pipe = env("SKYPOOL_PIPE_CONNECTION_TYPE");
  if (pipe) out.pipeConnectionType = pipe as SkypoolConfig["pipeConnectionType"];
  return out;
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
    exists = existsSync(path);
  } catch {
    // No read permission (Deno without --allow-read): no config file.
  }
  if (exists) {
    try {
      update = JSON.parse(readFileSync(path, "utf8")) as ConfigUpdate;
    } catch (err) {
      throw new TypeError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
    }
    validate(update);
  }
  fileCache.set(path, update);
  return update;
}

function merge(base: SkypoolConfig, update: ConfigUpdate): SkypoolConfig {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(update)) {
    if (v === undefined) continue;
    const cur = out[k];
    out[k] = cur && typeof cur === "object" && !Array.isArray(cur) && v && typeof v === "object" && !Array.isArray(v)
      ? { ...cur, ...v }
      : v;
  }
  return out as unknown as SkypoolConfig;
}

// The cached config is shared by every caller, so nobody may change it.
function freeze(cfg: SkypoolConfig): SkypoolConfig {
  for (const v of Object.values(cfg)) if (v && typeof v === "object") Object.freeze(v);
  return Object.freeze(cfg);
}

function validate(update: ConfigUpdate): void {
  if (update.transport !== undefined && typeof update.transport !== "string") {
    throw new TypeError(`transport must be a string, got ${typeof update.transport}`);
  }
  if (update.leaseMs !== undefined) positiveNumber("leaseMs", update.leaseMs);
  if (update.redisExpiryTime !== undefined) positiveNumber("redisExpiryTime", update.redisExpiryTime);
  if (update.pipeConnectionType !== undefined && !["redislist", "redisstream"].includes(update.pipeConnectionType)) {
    throw new RangeError(`pipeConnectionType must be "redislist" or "redisstream", got ${JSON.stringify(update.pipeConnectionType)}`);
  }
  if (update.redis?.url !== undefined && typeof update.redis.url !== "string") {
    throw new TypeError(`redis.url must be a string`);
  }
  if (update.storage !== undefined && (update.storage === null || typeof update.storage !== "object" || Array.isArray(update.storage))) {
    throw new TypeError(`storage must be an object { url?, s3? }, got ${JSON.stringify(update.storage)} (for a URL: { storage: { url } })`);
  }
  if (update.storage?.url !== undefined && typeof update.storage.url !== "string") {
    throw new TypeError(`storage.url must be a string, got ${typeof update.storage.url}`);
  }
  const s3 = update.storage?.s3;
  if (s3 !== undefined && (s3 === null || typeof s3 !== "object" || Array.isArray(s3))) {
    throw new TypeError(`storage.s3 must be an object of S3 client settings`);
  }
}

/** Lithops-style parameter names accepted by {@link config.setParameter}. */
const PARAMETERS = {
  LITHOPS_CONFIG: "lithopsConfig",
  STREAM_STDOUT: "streamStdout",
  REDIS_EXPIRY_TIME: "redisExpiryTime",
  PIPE_CONNECTION_TYPE: "pipeConnectionType",
  ENV_VARS: "envVars",
  EXPORT_EXECUTION_DETAILS: "exportExecutionDetails",
} as const;

/** The name of a Lithops-style parameter. */
export type ParameterName = keyof typeof PARAMETERS;

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
   * objects such as `redis` are merged.
   * @throws {TypeError|RangeError} for a value of the wrong type or range.
   */
  set(update: ConfigUpdate): void {
    if (update === null || typeof update !== "object") throw new TypeError("config.set expects an object");
    validate(update);
    programmatic = merge(programmatic as SkypoolConfig, update) as ConfigUpdate;
    cachedEffective = undefined;
  },

  /**
   * The effective configuration: programmatic, environment, file, defaults.
   * The environment and file are read on first use and again after
   * {@link config.reset}.
   */
  get(): SkypoolConfig {
    cachedEffective ??= freeze(merge(merge(merge(DEFAULTS, fromFile()), fromEnvironment()), programmatic));
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
