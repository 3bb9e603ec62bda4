/**
 * Lua for `Semaphore` and `BoundedSemaphore`.
 *
 * KEYS of every script: `state` (hash: `avail` = free permits, `seq` =
 * arrival counter of waiters), `leases` (sorted set: one member per permit
 * taken, scored by its lease expiry), `waiters` (sorted set: the wake key of
 * each blocked acquirer, scored by arrival, oldest first), `waitdl` (hash:
 * wake key → `deadline:leaseMs` of that waiter); `acquire` also takes the
 * acquirer's own wake key (`me`, in KEYS and ARGV). A hand-off wakes its
 * waiter with `wake()` (see `ScriptDefinition.wakes`).
 *
 * A permit that becomes free (a release, or a lease that expired because
 * its holder died) goes DIRECTLY to the oldest live waiter: the script
 * creates the waiter's lease (its member is the waiter's wake key) and
 * pushes a token to that waiter's own wake key, so the woken acquirer owns
 * the permit as soon as its BLPOP returns, with no second script. Only
 * permits nobody waits for are added to `avail`; so `avail > 0` implies no
 * live waiter, and a new acquirer never overtakes a waiting one.
 *
 * A waiter registers with a deadline (the end of its current BLPOP plus a
 * grace); a waiter past its deadline (timed out, or its process died) is
 * skipped. A waiter that gives up removes itself atomically, and if a
 * permit reached it first it keeps it (its `acquire` returns true). A waiter
 * that dies within its deadline may still be handed a permit: that lease is
 * never renewed and expires within the waiter's lease, which gives the
 * permit back, exactly as for a holder that dies.
 *
 * Invariant: `avail + #leases` is the semaphore's total (constant for a
 * bounded semaphore). A lease that expires (its holder died) goes back.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

const COMMON = `
local init = tonumber(ARGV[1])
local now = now_ms()
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'avail', init) end
local avail = tonumber(redis.call('HGET', KEYS[1], 'avail'))
-- Hands up to n permits to the oldest live waiters; returns how many are left.
local function hand_off(n)
  while n > 0 do
    local first = redis.call('ZPOPMIN', KEYS[3])
    local w = first[1]
    if not w then break end
    local info = redis.call('HGET', KEYS[4], w)
    redis.call('HDEL', KEYS[4], w)
    if info then
      local sep = string.find(info, ':', 1, true)
      local deadline = tonumber(string.sub(info, 1, sep - 1))
      if deadline >= now then
        redis.call('ZADD', KEYS[2], now + tonumber(string.sub(info, sep + 1)), w)
        wake(w, '1')
        n = n - 1
      end
    end
  end
  return n
end
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if expired > 0 then
  avail = avail + hand_off(expired)
  redis.call('HSET', KEYS[1], 'avail', avail)
end
local function next_expiry()
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #first == 0 then return -1 end
  return tonumber(first[2]) - now
end
`;

/**
 * Takes one permit. ARGV: init, me (the acquirer's wake key, also its lease
 * member), leaseMs, mode, waitMs.
 * - mode `try`: take a free permit, or fail;
 * - mode `wait`: also accept a permit handed to `me`; on failure register
 *   (or stay registered) as a waiter until `now + waitMs`;
 * - mode `cancel`: also accept a handed permit; on failure unregister.
 *
 * Returns `{1, avail}` on success, else `{0, ms until the next lease
 * expires or -1}`.
 */
export const SEM_ACQUIRE = defineScript({
  name: "semaphore.acquire",
  keys: ["state", "leases", "waiters", "waitdl", "me"],
  wakes: true,
  lua: COMMON + `
local me = ARGV[2]
local mode = ARGV[4]
if mode ~= 'try' and redis.call('ZSCORE', KEYS[2], me) then
  -- A release handed us a permit (its token is in our wake key: drop it).
  redis.call('ZREM', KEYS[3], me)
  redis.call('HDEL', KEYS[4], me)
  redis.call('DEL', KEYS[5])
  return {1, avail}
end
if avail > 0 then
  avail = avail - 1
  redis.call('HSET', KEYS[1], 'avail', avail)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), me)
  if mode ~= 'try' then
    redis.call('ZREM', KEYS[3], me)
    redis.call('HDEL', KEYS[4], me)
  end
  return {1, avail}
end
if mode == 'cancel' then
  redis.call('ZREM', KEYS[3], me)
  redis.call('HDEL', KEYS[4], me)
  redis.call('DEL', KEYS[5])
elseif mode == 'wait' then
  if not redis.call('ZSCORE', KEYS[3], me) then
    -- A stale token must not pass for a hand-off.
    redis.call('DEL', KEYS[5])
    redis.call('ZADD', KEYS[3], redis.call('HINCRBY', KEYS[1], 'seq', 1), me)
  end
  redis.call('HSET', KEYS[4], me, (now + tonumber(ARGV[5])) .. ':' .. ARGV[3])
end
return {0, next_expiry()}
`,
});

/**
 * Gives back n permits, to the oldest live waiters first. ARGV: init, n,
 * bound (-1 = unbounded), error message for an over-release, then this
 * handle's own lease members (their leases are ended first; then the oldest
 * other leases, since a permit may be released by another process).
 * Returns the own members it ended.
 */
export const SEM_RELEASE = defineScript({
  name: "semaphore.release",
  keys: ["state", "leases", "waiters", "waitdl"],
  wakes: true,
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
local rest = hand_off(n)
if rest > 0 then
  avail = avail + rest
  redis.call('HSET', KEYS[1], 'avail', avail)
end
return ended
`,
});

/** The number of free permits (after reaping expired leases). ARGV: init. */
export const SEM_VALUE = defineScript({
  name: "semaphore.value",
  keys: ["state", "leases", "waiters", "waitdl"],
  wakes: true,
  lua: COMMON + `
return avail
`,
});
