/**
 * Lua for `RLock` (a plain `Lock` uses the semaphore scripts).
 *
 * KEYS: `state` (hash: `owner` token, `count` recursion depth), `leases`
 * (sorted set holding the owner's lease), `wake` (list of wake-up tokens,
 * at most one). An owner whose lease expired (it died) is dropped.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

const COMMON = `
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and not redis.call('ZSCORE', KEYS[2], owner) then
  redis.call('HDEL', KEYS[1], 'owner', 'count')
  owner = false
end
`;

/**
 * Acquires for `me` (or re-enters). ARGV: me, leaseMs, levels (1, or the
 * depth to restore after a Condition wait). Returns `{1, depth}`, or
 * `{0, ms until the owner's lease expires}`.
 */
export const RLOCK_ACQUIRE = defineScript({
  name: "rlock.acquire",
  keys: ["state", "leases", "wake"],
  lua: COMMON + `
local me = ARGV[1]
local levels = tonumber(ARGV[3])
if not owner then
  redis.call('HSET', KEYS[1], 'owner', me, 'count', levels)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), me)
  redis.call('DEL', KEYS[3])
  return {1, levels}
end
if owner == me then
  local depth = redis.call('HINCRBY', KEYS[1], 'count', levels)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), me)
  return {1, depth}
end
return {0, tonumber(redis.call('ZSCORE', KEYS[2], owner)) - now}
`,
});

/**
 * Releases one level (ARGV[2] = "1") or every level (ARGV[2] = "all") for
 * `me` (ARGV[1]). Returns the depth left (or released, for "all").
 */
export const RLOCK_RELEASE = defineScript({
  name: "rlock.release",
  keys: ["state", "leases", "wake"],
  lua: COMMON + `
local me = ARGV[1]
if not owner then
  return redis.error_reply('STATE cannot release un-acquired lock')
end
if owner ~= me then
  return redis.error_reply('STATE cannot release a lock owned by another process or handle')
end
local depth = tonumber(redis.call('HGET', KEYS[1], 'count'))
local left = depth - 1
if ARGV[2] == 'all' then left = 0 end
if left > 0 then
  redis.call('HSET', KEYS[1], 'count', left)
  return left
end
redis.call('HDEL', KEYS[1], 'owner', 'count')
redis.call('ZREM', KEYS[2], me)
redis.call('DEL', KEYS[3])
redis.call('RPUSH', KEYS[3], '1')
if ARGV[2] == 'all' then return depth end
return 0
`,
});

/** `{locked (0/1), depth if ARGV[1] is the owner else 0}`. */
export const RLOCK_STATE = defineScript({
  name: "rlock.state",
  keys: ["state", "leases", "wake"],
  lua: COMMON + `
if not owner then return {0, 0} end
if owner == ARGV[1] then return {1, tonumber(redis.call('HGET', KEYS[1], 'count'))} end
return {1, 0}
`,
});
