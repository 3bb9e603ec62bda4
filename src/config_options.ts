/**
 * The kinds of configuration option: each says once what values it takes,
 * and from that both checks a value given to `config.set` (or read from the
 * config file) and parses its environment variable. `config.ts` declares
 * the options with these; adding one is one line there.
 *
 * @module
 */
import { checkBoolean, checkChoice, checkInteger, show } from "./validate.ts";

/** One configuration option. */
export interface OptionSpec<T> {
  /** The value when nothing sets it. */
  readonly default: T;
  /** The environment variable that sets it, if any. */
  readonly env?: string;
  /**
   * Checks a value set programmatically or in the config file.
   * @param name the option's path for messages (`config.redis.prefix`).
   * @throws {TypeError|RangeError} naming `name` and showing the value.
   */
  check(value: unknown, name: string): T;
  /**
   * Parses the text of the environment variable.
   * @throws {RangeError} naming the variable and showing its text.
   */
  parse(raw: string, name: string): T;
}

/** A nested group of options (`redis: { url, prefix }`). */
export interface GroupSpec<T> {
  readonly group: Schema<T>;
}

/** The options of a configuration object `T`, each with its spec. */
export type Schema<T> = { readonly [K in keyof T]-?: OptionSpec<T[K]> | GroupSpec<T[K]> };

/** Whether a schema entry is a group. */
export function isGroup(spec: OptionSpec<unknown> | GroupSpec<unknown>): spec is GroupSpec<unknown> {
  return "group" in spec;
}

/** Options common to every kind. */
interface Common<T> {
  default: T;
  env?: string;
}

/**
 * A string option; `pattern` (with its `rule` in words) restricts it.
 * `redact` hides secrets (a password in a URL) in error messages.
 *
 * @example
 * ```ts
 * import { stringOption } from "./src/config_options.ts";
 * const prefix = stringOption({ default: "skypool", pattern: /^[^:\s]+$/, rule: "without ':' or spaces" });
 * console.assert(prefix.check("app", "config.redis.prefix") === "app");
 * ```
 */
export function stringOption(
  o: Common<string> & { pattern?: RegExp; rule?: string; redact?: (value: string) => string },
): OptionSpec<string> {
  const rule = o.rule ?? "a non-empty string";
  const check = (value: unknown, name: string): string => {
    if (typeof value !== "string") throw new TypeError(`${name} must be ${rule}, got ${show(value)}`);
    if (value === "" || (o.pattern && !o.pattern.test(value))) {
      throw new RangeError(`${name} must be ${rule}, got ${show(o.redact ? o.redact(value) : value)}`);
    }
    return value;
  };
  return { default: o.default, env: o.env, check, parse: check };
}

/**
 * An integer option in `[min, max]`; its variable must hold the integer in decimal.
 *
 * @example
 * ```ts
 * import { integerOption } from "./src/config_options.ts";
 * const lease = integerOption({ default: 30_000, min: 1, env: "SKYPOOL_LEASE_MS" });
 * console.assert(lease.parse("1500", "SKYPOOL_LEASE_MS") === 1500);
 * ```
 */
export function integerOption(o: Common<number> & { min: number; max?: number }): OptionSpec<number> {
  const bounds = { min: o.min, max: o.max };
  return {
    default: o.default,
    env: o.env,
    check: (value, name) => checkInteger(name, value, bounds),
    parse: (raw, name) => {
      if (!/^\s*[-+]?\d+\s*$/.test(raw)) throw new RangeError(`${name} must be an integer >= ${o.min}, got ${show(raw)}`);
      return checkInteger(name, Number(raw), bounds);
    },
  };
}

/**
 * A boolean option; its variable must read `true`/`false` (or `1`/`0`).
 *
 * @example
 * ```ts
 * import { booleanOption } from "./src/config_options.ts";
 * console.assert(booleanOption({ default: false }).parse("1", "SKYPOOL_X") === true);
 * ```
 */
export function booleanOption(o: Common<boolean>): OptionSpec<boolean> {
  return {
    default: o.default,
    env: o.env,
    check: (value, name) => checkBoolean(name, value),
    parse: (raw, name) => {
      const v = raw.trim().toLowerCase();
      if (v === "true" || v === "1") return true;
      if (v === "false" || v === "0") return false;
      throw new RangeError(`${name} must be true, false, 1 or 0, got ${show(raw)}`);
    },
  };
}

/**
 * An option that is one of a few strings.
 *
 * @example
 * ```ts
 * import { choiceOption } from "./src/config_options.ts";
 * const pipe = choiceOption({ default: "redislist", choices: ["redislist", "redisstream"] as const });
 * console.assert(pipe.check("redisstream", "config.pipeConnectionType") === "redisstream");
 * ```
 */
export function choiceOption<S extends string>(o: Common<S> & { choices: readonly S[] }): OptionSpec<S> {
  const check = (value: unknown, name: string): S => checkChoice(name, value, o.choices);
  return { default: o.default, env: o.env, check, parse: check };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * An option holding a plain object, each entry checked by `entry`; its
 * variable holds the object as JSON. The value is copied, so a caller
 * changing its object later does not change the configuration.
 *
 * @example
 * ```ts
 * import { recordOption } from "./src/config_options.ts";
 * const extra = recordOption({ default: {} });
 * console.assert(extra.parse('{"a":1}', "SKYPOOL_X").a === 1);
 * ```
 */
export function recordOption<V = unknown>(
  o: Common<Record<string, V>> & { entry?: (key: string, value: unknown, name: string) => V; what?: string },
): OptionSpec<Record<string, V>> {
  const what = o.what ?? "a plain object";
  const check = (value: unknown, name: string): Record<string, V> => {
    if (!isPlainObject(value)) throw new TypeError(`${name} must be ${what}, got ${show(value)}`);
    const out: Record<string, V> = {};
    for (const [k, v] of Object.entries(value)) out[k] = o.entry ? o.entry(k, v, `${name}.${k}`) : (v as V);
    return out;
  };
  return {
    default: o.default,
    env: o.env,
    check,
    parse: (raw, name) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        throw new RangeError(`${name} must be ${what} in JSON, got ${show(raw)}`);
      }
      return check(parsed, name);
    },
  };
}

/**
 * A list of strings, each matching `pattern` (`rule` says it in words); its
 * variable holds them separated by commas. The value is copied.
 *
 * @example
 * ```ts
 * import { stringListOption } from "./src/config_options.ts";
 * const external = stringListOption({ default: [], pattern: /^[a-z-]+$/, rule: "a package name" });
 * console.assert(external.parse("sharp, canvas", "SKYPOOL_X").join() === "sharp,canvas");
 * ```
 */
export function stringListOption(o: Common<string[]> & { pattern: RegExp; rule: string }): OptionSpec<string[]> {
  const check = (value: unknown, name: string): string[] => {
    if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of strings (each ${o.rule}), got ${show(value)}`);
    return value.map((item, i) => {
      if (typeof item !== "string" || !o.pattern.test(item)) throw new RangeError(`${name}[${i}] must be ${o.rule}, got ${show(item)}`);
      return item;
    });
  };
  return {
    default: o.default,
    env: o.env,
    check,
    parse: (raw, name) => check(raw.split(",").map((s) => s.trim()).filter((s) => s !== ""), name),
  };
}

/**
 * `spec`, or `undefined` (an optional setting with no default).
 *
 * @example
 * ```ts
 * import { optional, stringOption } from "./src/config_options.ts";
 * console.assert(optional(stringOption({ default: "" })).default === undefined);
 * ```
 */
export function optional<T>(spec: OptionSpec<T>): OptionSpec<T | undefined> {
  return { ...spec, default: undefined };
}

/**
 * `spec`, or `null` (a setting that is off by default).
 *
 * @example
 * ```ts
 * import { nullable, stringOption } from "./src/config_options.ts";
 * console.assert(nullable(stringOption({ default: "" })).check(null, "config.x") === null);
 * ```
 */
export function nullable<T>(spec: OptionSpec<T>): OptionSpec<T | null> {
  return {
    ...spec,
    default: null,
    check: (value, name) => (value === null ? null : spec.check(value, name)),
  };
}

/**
 * A nested group of options.
 *
 * @example
 * ```ts
 * import { group, stringOption } from "./src/config_options.ts";
 * const redis = group({ prefix: stringOption({ default: "skypool" }) });
 * console.assert(redis.group.prefix.default === "skypool");
 * ```
 */
export function group<T>(schema: Schema<T>): GroupSpec<T> {
  return { group: schema };
}

/**
 * Checks a (partial, nested) update against `schema`: every key known,
 * every value of its option's kind. `undefined` values mean "not set".
 * Returns a checked copy.
 *
 * @example
 * ```ts
 * import { checkUpdate, integerOption } from "./src/config_options.ts";
 * const schema = { leaseMs: integerOption({ default: 30_000, min: 1 }) };
 * console.assert(checkUpdate(schema, { leaseMs: 5 }, "config").leaseMs === 5);
 * ```
 * @throws {TypeError} for an update that is not a plain object, or an unknown key.
 * @throws {TypeError|RangeError} from an option's check.
 */
export function checkUpdate<T>(schema: Schema<T>, update: unknown, name: string): Partial<T> {
  if (!isPlainObject(update)) throw new TypeError(`${name} must be a plain object of settings, got ${show(update)}`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(update)) {
    if (!Object.hasOwn(schema, key)) {
      const known = Object.keys(schema).map((k) => JSON.stringify(k)).join(", ");
      throw new TypeError(`${name}: unknown option ${JSON.stringify(key)} (known: ${known})`);
    }
    if (value === undefined) continue;
    const spec = schema[key as keyof T] as OptionSpec<unknown> | GroupSpec<unknown>;
    out[key] = isGroup(spec) ? checkUpdate(spec.group, value, `${name}.${key}`) : spec.check(value, `${name}.${key}`);
  }
  return out as Partial<T>;
}

/** The defaults of every option of `schema`. */
export function defaultsOf<T>(schema: Schema<T>): T {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema) as [string, OptionSpec<unknown> | GroupSpec<unknown>][]) {
    out[key] = isGroup(spec) ? defaultsOf(spec.group) : spec.default;
  }
  return out as T;
}

/**
 * The settings of `schema` that environment variables give (each parsed
 * and checked). `read` returns a variable's text, or `undefined` when unset.
 */
export function fromEnv<T>(schema: Schema<T>, read: (name: string) => string | undefined): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema) as [string, OptionSpec<unknown> | GroupSpec<unknown>][]) {
    if (isGroup(spec)) {
      const sub = fromEnv(spec.group, read);
      if (Object.keys(sub).length > 0) out[key] = sub;
      continue;
    }
    const raw = spec.env === undefined ? undefined : read(spec.env);
    if (raw !== undefined) out[key] = spec.parse(raw, spec.env!);
  }
  return out as Partial<T>;
}
