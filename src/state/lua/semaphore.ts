/**
 * Lua for `Semaphore`, `BoundedSemaphore` and `Lock` (a Lock is a bounded
 * semaphore of 1 that anyone may release, as in CPython).
 *
 * KEYS of every script: `state` (hash: `avail` = free permits), `leases`
 * (sorted set: one member per permit taken, scored by its lease expiry),
 * `wake` (list: wake-up tokens that `release` pushes and blocked
 * acquirers BLPOP). The number of wake tokens is kept at most `avail`, so a
 * token is never saved for a waiter that could not get a permit anyway.
 *
 * Invariant: `avail + #leases` is the semaphore's total (constant for a
 * bounded semaphore). A lease that expires (its holder died) goes back to
 * `avail`.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

const COMMON = `
local init = tonumber(ARGV[1])
local now = now_ms()
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'avail', init) end
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local avail = tonumber(redis.call('HGET', KEYS[1], 'avail'))
if expired > 0 then
  avail = avail + expired
  redis.call('HSET', KEYS[1], 'avail', avail)
end
local function trim_wake(n)
  if n <= 0 then redis.call('DEL', KEYS[3]) else redis.call('LTRIM', KEYS[3], 0, n - 1) end
end
local function next_expiry()
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #first == 0 then return -1 end
  return tonumber(first[2]) - now
end
`;

/**
 * Takes one permit if one is free. ARGV: init, token, leaseMs.
 * Returns `{1, avail}` on success, else `{0, ms until the next lease expires or -1}`.
 */
export const SEM_ACQUIRE = defineScript({
  name: "semaphore.acquire",
  keys: ["state", "leases", "wake"],
  lua: COMMON + `
if avail > 0 then
  avail = avail - 1
  redis.call('HSET', KEYS[1], 'avail', avail)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[2])
  trim_wake(avail)
  return {1, avail}
end
return {0, next_expiry()}
`,
});

/**
 * Gives back n permits. ARGV: init, n, bound (-1 = unbounded), error
 * message for an over-release, then this handle's own lease tokens (their
 * leases are ended first; then the oldest other leases, since a permit may
 * be released by another process). Returns the own tokens it ended.
 */
export const SEM_RELEASE = defineScript({
  name: "semaphore.release",
  keys: ["state", "leases", "wake"],
  lua: COMMON + `
local n = tonumber(ARGV[2])
local bound = tonumber(ARGV[3])
local held = redis.call('ZCARD', KEYS[2])
if bound >= 0 and n > held then
  return redis.error_reply('STATE ' .. ARGV[4])
end
local ended = {}
local left = math.min(n, held)
for i = 5, #ARGV do
  if left == 0 then break end
  if redis.call('ZREM', KEYS[2], ARGV[i]) == 1 then
    ended[#ended + 1] = ARGV[i]
    left = left - 1
  end
end
if left > 0 then redis.call('ZPOPMIN', KEYS[2], left) end
avail = avail + n
redis.call('HSET', KEYS[1], 'avail', avail)
local push = math.min(n, avail)
while push > 0 do
  local chunk = {}
  for i = 1, math.min(push, 1000) do chunk[i] = '1' end
  redis.call('RPUSH', KEYS[3], unpack(chunk))
  push = push - #chunk
end
trim_wake(avail)
return ended
`,
});

/** The number of free permits (after reaping expired leases). ARGV: init. */
export const SEM_VALUE = defineScript({
  name: "semaphore.value",
  keys: ["state", "leases", "wake"],
  lua: COMMON + `
trim_wake(avail)
return avail
`,
});
