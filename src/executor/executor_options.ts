/**
 * The options of `new FunctionExecutor(...)` and their checks.
 *
 * @module
 */
import type { Transport, TransportName } from "../transport/transport.ts";
import { checkEnvironment, checkKnownKeys, checkRetries } from "./call_options.ts";

/** Per-executor settings over the global `config`. */
export interface ExecutorConfig {
  /** Default `retries` of this executor's calls. @default config `retries` (0) */
  retries?: number;
  /** Environment variables of every call (`extraEnv` adds to them). */
  envVars?: Record<string, string>;
}

/** Options of `FunctionExecutor`. */
export interface FunctionExecutorOptions {
  /** A transport name or object. @default config `transport` ("local") */
  transport?: TransportName | Transport;
  /** How many batches run at once (on `local`, also how many worker processes). @default the transport's size */
  workers?: number;
  /** Where call data and partition sources are stored (a storage URL). @default config `storage` */
  storage?: string;
  /** Show a progress bar while `wait`/`getResult` block. @default true on a TTY */
  showProgressbar?: boolean;
  /** Settings of this executor over the global `config`. */
  config?: ExecutorConfig;
}

const OPTION_KEYS = ["transport", "workers", "storage", "showProgressbar", "config"];
const CONFIG_KEYS = ["retries", "envVars"];
const WHAT = "FunctionExecutor";

/**
 * Checks the executor's options (the transport itself is checked when it is resolved).
 * @throws {TypeError|RangeError} naming the bad option.
 */
export function checkExecutorOptions(options: unknown): {
  workers?: number;
  storage?: string;
  showProgressbar?: boolean;
  retries?: number;
  envVars?: Record<string, string>;
} {
  if (options === null || typeof options !== "object") throw new TypeError(`${WHAT} options must be an object`);
  checkKnownKeys(options, OPTION_KEYS, WHAT);
  const { workers, storage, showProgressbar, config = {} } = options as FunctionExecutorOptions;
  if (workers !== undefined) {
    if (typeof workers !== "number") throw new TypeError(`${WHAT}: workers must be an integer >= 1, got ${typeof workers}`);
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`${WHAT}: workers must be an integer >= 1, got ${workers}`);
  }
  if (storage !== undefined && typeof storage !== "string") throw new TypeError(`${WHAT}: storage must be a URL string, got ${typeof storage}`);
  if (showProgressbar !== undefined && typeof showProgressbar !== "boolean") {
    throw new TypeError(`${WHAT}: showProgressbar must be a boolean, got ${typeof showProgressbar}`);
  }
  if (config === null || typeof config !== "object") throw new TypeError(`${WHAT}: config must be an object`);
  checkKnownKeys(config, CONFIG_KEYS, WHAT, "config key");
  return {
    workers,
    storage,
    showProgressbar,
    retries: checkRetries(config.retries, "config.retries", WHAT),
    envVars: checkEnvironment(config.envVars, "config.envVars", WHAT),
  };
}
