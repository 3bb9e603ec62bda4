/**
 * Lua scripts as skypool runs them: {@link defineScript} wraps a body with
 * a prelude (TTL, clock, key refresh helpers) and with the bookkeeping that
 * makes every run happen once.
 *
 * Every run carries an operation id (a key of the namespace). The script
 * first looks that key up: if it exists, this exact run already happened
 * (a resend after the connection dropped under it, possibly before a Redis
 * restart of a durable server), and its recorded reply is returned without
 * running the body again. Otherwise the body runs and its reply is recorded
 * under the id, with an expiry that outlasts any resend. The client deletes
 * ids it has seen replies for in its next runs (the "acks"), so a busy
 * process keeps only its in-flight ids in Redis.
 *
 * @module
 */
import { nodeCrypto } from "../runtime/builtins.ts";

/** What a primitive family declares for one Lua script. */
export interface ScriptDefinition {
  /** A unique name, `family.action` (used in error messages). */
  name: string;
  /**
   * Names of the KEYS the script takes, in order (documentation and a
   * count check). A last name ending in `"..."` means "any number more".
   */
  keys: readonly string[];
  /**
   * The script body. It sees `KEYS` and `ARGV` exactly as passed to
   * `RedisContext.run`, plus these helpers:
   * - `TTL` — the expiry in seconds (`redisExpiryTime`);
   * - `now_ms()` — the Redis server clock in milliseconds;
   * - `touch(key)` — refresh one key's expiry (for keys created mid-script
   *   that are not in KEYS, and, in a lazy script, for every key it creates);
   * - `TOUCH` — in a lazy script, whether the KEYS' expiry is refreshed
   *   after the body in this call.
   * Return `redis.error_reply('STATE message')` to make the call reject
   * with a `StateError("message")`.
   */
  lua: string;
  /** Refresh the TTL of every key in KEYS after the body (default `true`). */
  touchKeys?: boolean;
  /**
   * The body wakes waiters with `wake(key, message)`: pushes `message` to
   * a waiter's own wake list, whose name the script read from its state.
   * On a single server that happens inside the script; on a Redis Cluster,
   * where a script may only touch the keys it is given, the script returns
   * the wake-ups and `RedisContext.run` delivers them in a second script
   * whose KEYS are those lists (the same slot: a waiter's list carries its
   * object's hash tag). Default `false`.
   */
  wakes?: boolean;
  /**
   * `"always"` (the default): refresh every key in KEYS after the body, in
   * every call. `"lazy"`: refresh them only in calls where this process has
   * not refreshed one of them for `redisExpiryTime / 10`; such a body MUST
   * give a TTL to every key it creates (`touch(key)` when RPUSH/INCR/HSET…
   * report a new key, or SET … PX), so that no key is ever left without
   * one. A lazy refresh sets `redisExpiryTime × 1.1`, so a key still lives
   * at least `redisExpiryTime` after its last use (and at most 10 % longer).
   * Ignored when `touchKeys` is `false`.
   */
  touch?: "always" | "lazy";
}

/** A script ready to run: its definition, wrapped source and SHA1. */
export interface Script extends Readonly<ScriptDefinition> {
  /** Whether the KEYS' expiry is refreshed lazily (see {@link ScriptDefinition.touch}). */
  readonly lazy: boolean;
  /** The full source sent to Redis (prelude + body + expiry refresh). */
  readonly source: string;
  /** SHA1 of {@link source} (for EVALSHA). */
  readonly sha: string;
}

/**
 * How many ARGV entries precede the caller's arguments: TTL, touch flag,
 * the operation record's expiry in ms, the number of acks, the inline-wake
 * flag. The acks and the operation id travel last in KEYS (a Redis Cluster
 * lets a script touch only the keys it is given), so the body sees KEYS
 * without them.
 * @internal
 */
export const SCRIPT_HEADER = 5;

// A recorded reply is packed with cmsgpack, which keeps binary strings,
// nested arrays and the status/error tables Redis replies are made of.
const PRELUDE = `
local __argv = ARGV
local TTL = tonumber(__argv[1])
local TOUCH = __argv[2] == '1'
local __opTtl = __argv[3]
local __acks = tonumber(__argv[4])
local __inline = __argv[5] == '1'
local __nk = #KEYS - 1 - __acks
local __op = KEYS[#KEYS]
for i = __nk + 1, __nk + __acks do redis.call('DEL', KEYS[i]) end
local __seen = redis.call('GET', __op)
if __seen then return cmsgpack.unpack(__seen)[1] end
local ARGV = {}
for i = 6, #__argv do ARGV[#ARGV + 1] = __argv[i] end
local KEYS = {unpack(KEYS, 1, __nk)}
local __wakes = {}
local function wake(key, msg)
  if __inline then
    redis.call('RPUSH', key, msg)
    redis.call('EXPIRE', key, TTL)
  else
    __wakes[#__wakes + 1] = key
    __wakes[#__wakes + 1] = msg
  end
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function touch(key)
  redis.call('EXPIRE', key, TTL)
end
`;

const RECORD = `redis.call('SET', __op, cmsgpack.pack({__r}), 'PX', __opTtl)\nreturn __r\n`;

// A waking script's reply travels with its wake-ups (an error reply as is).
const WITH_WAKES = `if not (type(__r) == 'table' and __r.err) then __r = {__r, __wakes} end\n`;

/**
 * The SHA-1 by which Redis knows a script's `source` (`EVALSHA`), hex.
 *
 * @example
 * ```ts
 * import { scriptSha } from "./src/state/redis_script.ts";
 * console.assert(scriptSha("return 1") === "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
 * ```
 */
export function scriptSha(source: string): string {
  return nodeCrypto().createHash("sha1").update(source).digest("hex");
}

/**
 * Declares a Lua script. Call it at module level in
 * `src/state/lua/<family>.ts` and pass the result to `RedisContext.run`;
 * nothing is cached per family, so adding scripts needs no change here.
 *
 * @throws {TypeError} for a missing name, keys list or body.
 * @example
 * ```ts
 * import { defineScript } from "./src/state/redis_script.ts";
 * export const INCR_BY = defineScript({
 *   name: "counter.incrBy",
 *   keys: ["counter"],
 *   lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
 * });
 * console.assert(INCR_BY.sha.length === 40);
 * ```
 */
export function defineScript(def: ScriptDefinition): Script {
  if (typeof def?.name !== "string" || def.name === "") throw new TypeError("defineScript: name must be a non-empty string");
  if (!Array.isArray(def.keys)) throw new TypeError(`defineScript(${def.name}): keys must be an array of names`);
  if (typeof def.lua !== "string" || def.lua.trim() === "") throw new TypeError(`defineScript(${def.name}): lua must be a non-empty string`);
  if (def.touch !== undefined && def.touch !== "always" && def.touch !== "lazy") {
    throw new TypeError(`defineScript(${def.name}): touch must be "always" or "lazy"`);
  }
  const touchKeys = def.touchKeys ?? true;
  const touch = touchKeys ? def.touch ?? "always" : "always";
  const lazy = touchKeys && touch === "lazy";
  const refresh = lazy
    ? `if TOUCH then for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], TTL) end end\n`
    : touchKeys
    ? `for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], TTL) end\n`
    : "";
  const wakes = def.wakes ?? false;
  const source = `-- skypool script ${def.name}\n${PRELUDE}\nlocal function __body()\n${def.lua}\nend\nlocal __r = __body()\n${refresh}${
    wakes ? WITH_WAKES : ""
  }${RECORD}`;
  // Hashed when first sent: scripts are declared at module level, and
  // `node:crypto` must not load at import (see runtime/builtins.ts).
  let sha: string | undefined;
  return Object.freeze({
    ...def,
    touchKeys,
    touch,
    wakes,
    lazy,
    source,
    get sha(): string {
      return sha ??= scriptSha(source);
    },
  });
}

/**
 * Checks the number of keys against the script's declaration.
 * @throws {TypeError} when it does not match.
 * @internal
 */
export function checkKeyCount(script: Script, keys: readonly string[]): void {
  const names = script.keys;
  const variadic = names.length > 0 && names[names.length - 1].endsWith("...");
  const fixed = variadic ? names.length - 1 : names.length;
  if (variadic ? keys.length < fixed : keys.length !== fixed) {
    throw new TypeError(`script ${script.name} takes keys [${names.join(", ")}], got ${keys.length}`);
  }
}
