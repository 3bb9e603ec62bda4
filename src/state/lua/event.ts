/**
 * Lua for `Event`. KEYS: `state` (hash: `flag` 0/1), `waiters` (list of
 * the waiters' wake keys). `set()` wakes every waiter queued at that
 * moment, so a `set()` followed at once by `clear()` still wakes them all.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

/**
 * Returns 1 if set; otherwise queues the waiter (KEYS[3] and ARGV: its wake
 * key; none for a mere check) and returns 0.
 */
export const EVENT_WAIT = defineScript({
  name: "event.wait",
  keys: ["state", "waiters", "wake..."],
  lua: `
if redis.call('HGET', KEYS[1], 'flag') == '1' then return 1 end
if ARGV[1] ~= '' then
  redis.call('DEL', KEYS[3])
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
return 0
`,
});

/** Sets the flag and wakes every queued waiter; returns how many. */
export const EVENT_SET = defineScript({
  name: "event.set",
  keys: ["state", "waiters"],
  wakes: true,
  lua: `
redis.call('HSET', KEYS[1], 'flag', '1')
local ws = redis.call('LRANGE', KEYS[2], 0, -1)
for i = 1, #ws do
  wake(ws[i], '1')
end
redis.call('DEL', KEYS[2])
return #ws
`,
});

/** Clears the flag. */
export const EVENT_CLEAR = defineScript({
  name: "event.clear",
  keys: ["state", "waiters"],
  lua: `
redis.call('HSET', KEYS[1], 'flag', '0')
return 1
`,
});

/**
 * A waiter gives up (KEYS[3] and ARGV: its wake key). Returns 1 if a set() reached it
 * first, else the flag now (0 or 1).
 */
export const EVENT_CANCEL = defineScript({
  name: "event.cancel",
  keys: ["state", "waiters", "wake"],
  lua: `
if redis.call('LREM', KEYS[2], 0, ARGV[1]) == 0 then
  redis.call('DEL', KEYS[3])
  return 1
end
if redis.call('HGET', KEYS[1], 'flag') == '1' then return 1 end
return 0
`,
});
