/**
 * Lua for `Lock` and `RLock`.
 *
 * A `Lock` is one key, `owner`: a string holding the holder's token whose
 * expiry IS the holder's lease (`SET owner token NX PX leaseMs`, renewed by
 * the holder's watchdog). Free = no key, so an uncontended acquire is that
 * one native command. `wake` is a list of at most one wake-up token for
 * blocked acquirers (BLPOP). An acquirer that fails marks the holder's
 * value (`token|w`, the expiry kept) before it blocks, and only a release
 * of a marked value pushes a wake-up token, so an uncontended release is
 * GET + DEL. An acquirer that got the lock after waiting marks its own
 * value (others may still wait), so every blocked acquirer is woken in
 * turn. Every key is created with an expiry (the lease, or
 * `redisExpiryTime` for `wake`), so these scripts need no refresh after.
 *
 * `RLock` KEYS: `state` (hash: `owner` token, `count` recursion depth),
 * `leases` (sorted set holding the owner's lease), `wake` (list of wake-up
 * tokens, at most one). An owner whose lease expired (it died) is dropped.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

/**
 * The fast path of `Lock.acquire`: takes a free lock (`SET NX PX`, the
 * value unmarked). A script rather than the native command so that a run
 * given up on (Redis frozen) can be fenced off and undone. KEYS: owner.
 * ARGV: token, leaseMs. Returns 1 when acquired, else 0.
 */
export const LOCK_TAKE = defineScript({
  name: "lock.take",
  keys: ["owner"],
  touchKeys: false,
  lua: `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`,
});

/**
 * The slow path of `Lock.acquire` (after `SET NX` failed, or after a
 * wake-up): tries again (taking the lock marked, as others may wait), and
 * drops any wake-up token left in `wake` (the lock is taken, so the token
 * is stale). On failure it marks the holder's value, so that its release
 * wakes a waiter. KEYS: owner, wake. ARGV: token, leaseMs. Returns `{1, 0}`
 * when acquired, else `{0, ms until the holder's lease expires, or -1}`.
 */
export const LOCK_TRY = defineScript({
  name: "lock.try",
  keys: ["owner", "wake"],
  touchKeys: false,
  lua: `
redis.call('DEL', KEYS[2])
if redis.call('SET', KEYS[1], ARGV[1] .. '|w', 'NX', 'PX', ARGV[2]) then return {1, 0} end
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, -2) ~= '|w' then redis.call('SET', KEYS[1], v .. '|w', 'KEEPTTL') end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = -1 end
return {0, ttl}
`,
});

/**
 * Releases a Lock, whoever holds it (CPython); if an acquirer waits (the
 * value is marked), leaves one wake-up token. KEYS: owner, wake. ARGV: the
 * error message for an unlocked lock; a token, or `''`. With a token (an
 * acquire whose reply came after its caller gave up, so nobody here holds
 * what it took), only that holder is released, and nil is returned
 * otherwise. Returns the released holder's token (without the mark).
 */
export const LOCK_RELEASE = defineScript({
  name: "lock.release",
  keys: ["owner", "wake"],
  touchKeys: false,
  lua: `
local owner = redis.call('GET', KEYS[1])
local only = ARGV[2]
if only ~= '' and owner ~= only and owner ~= only .. '|w' then return false end
if not owner then return redis.error_reply('STATE ' .. ARGV[1]) end
redis.call('DEL', KEYS[1])
if string.sub(owner, -2) ~= '|w' then return owner end
if redis.call('RPUSH', KEYS[2], '1') == 1 then
  redis.call('EXPIRE', KEYS[2], TTL)
else
  redis.call('LTRIM', KEYS[2], 0, 0)
end
return string.sub(owner, 1, -3)
`,
});

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
