/**
 * Lua for `Condition`. Each waiter has its own wake list (a key named by
 * the waiter, under the condition's key), queued FIFO in `waiters` and
 * holding a lease in `wlease` that the live waiter renews. `notify(n)`
 * pops waiters in order and wakes the first n live ones; notifies are
 * never saved for later waiters, and a waiter that timed out removes
 * itself atomically so it cannot swallow a later notify.
 *
 * KEYS: `waiters` (list of wake keys), `wlease` (sorted set: wake key →
 * lease expiry), and the waiter's own wake key where it has one. Notify
 * wakes with `wake()` (see `ScriptDefinition.wakes`): on a Redis Cluster
 * the wake-ups go out in a second script that is given those keys.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

/** Queues a waiter. KEYS[3]: its wake key. ARGV: its wake key, leaseMs. */
export const COND_REGISTER = defineScript({
  name: "condition.register",
  keys: ["waiters", "wlease", "wake"],
  lua: `
redis.call('DEL', KEYS[3])
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[2]), ARGV[1])
return 1
`,
});

/** Wakes up to ARGV[1] live waiters (-1: all). Returns how many were woken. */
export const COND_NOTIFY = defineScript({
  name: "condition.notify",
  keys: ["waiters", "wlease"],
  wakes: true,
  lua: `
local n = tonumber(ARGV[1])
local now = now_ms()
local woken = 0
while n < 0 or woken < n do
  local w = redis.call('LPOP', KEYS[1])
  if not w then break end
  local score = redis.call('ZSCORE', KEYS[2], w)
  if score then
    redis.call('ZREM', KEYS[2], w)
    if tonumber(score) > now then
      wake(w, '1')
      woken = woken + 1
    end
  end
end
return woken
`,
});

/**
 * A waiter gives up (timeout). KEYS[3] and ARGV: its wake key. Returns 0 if it was
 * still waiting (now removed), 1 if a notify reached it first (the wake-up
 * is consumed here).
 */
export const COND_CANCEL = defineScript({
  name: "condition.cancel",
  keys: ["waiters", "wlease", "wake"],
  lua: `
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('LREM', KEYS[1], 0, ARGV[1])
  return 0
end
redis.call('DEL', KEYS[3])
return 1
`,
});
