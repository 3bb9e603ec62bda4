/**
 * Lua for `Barrier`. KEYS: `state` (hash: `gen` generation, `count`
 * parties arrived in this generation, `broken` 0/1), `waiters` (list of
 * the waiting parties' wake keys), and a party's own wake key where it
 * has one (ARGV names it too). Wake-ups go through `wake()` (see
 * `ScriptDefinition.wakes`). Release pushes `ok` to each waiter of
 * the generation, breaking pushes `broken`; the generation counter keeps
 * passes apart.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

const INIT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'gen', 0, 'count', 0, 'broken', 0)
end
local function wake_all(msg)
  local ws = redis.call('LRANGE', KEYS[2], 0, -1)
  for i = 1, #ws do
    wake(ws[i], msg)
  end
  redis.call('DEL', KEYS[2])
end
`;

/**
 * A party arrives. KEYS[3]: its wake key. ARGV: parties, wake key. Returns `{-1}` if broken,
 * else `{index, gen, last (0/1)}`; a non-last party is queued.
 */
export const BARRIER_ARRIVE = defineScript({
  name: "barrier.arrive",
  keys: ["state", "waiters", "wake"],
  lua: INIT + `
if redis.call('HGET', KEYS[1], 'broken') == '1' then return {-1} end
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen'))
local index = tonumber(redis.call('HINCRBY', KEYS[1], 'count', 1)) - 1
if index + 1 >= tonumber(ARGV[1]) then return {index, gen, 1} end
redis.call('DEL', KEYS[3])
redis.call('RPUSH', KEYS[2], ARGV[2])
return {index, gen, 0}
`,
});

/**
 * The last party releases generation ARGV[1] (after the action ran).
 * Returns 1, or 0 if the barrier was broken or reset meanwhile.
 */
export const BARRIER_PASS = defineScript({
  name: "barrier.pass",
  keys: ["state", "waiters"],
  wakes: true,
  lua: INIT + `
if redis.call('HGET', KEYS[1], 'broken') == '1' or redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then return 0 end
redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'count', 0)
wake_all('ok')
return 1
`,
});

/** Breaks the barrier (abort, failed action, timeout): every waiter gets `broken`. */
export const BARRIER_ABORT = defineScript({
  name: "barrier.abort",
  keys: ["state", "waiters"],
  wakes: true,
  lua: INIT + `
redis.call('HSET', KEYS[1], 'broken', 1, 'count', 0)
wake_all('broken')
return 1
`,
});

/** Resets: waiters get `broken`; the barrier starts a fresh generation, unbroken. */
export const BARRIER_RESET = defineScript({
  name: "barrier.reset",
  keys: ["state", "waiters"],
  wakes: true,
  lua: INIT + `
wake_all('broken')
redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'count', 0, 'broken', 0)
return 1
`,
});

/**
 * A waiter timed out (KEYS[3]: its wake key; ARGV: gen, wake key). If it was still waiting in
 * that generation it breaks the barrier and returns `broken`; otherwise it
 * returns the message that reached it (`ok` or `broken`).
 */
export const BARRIER_TIMEOUT = defineScript({
  name: "barrier.timeout",
  keys: ["state", "waiters", "wake"],
  wakes: true,
  lua: INIT + `
if redis.call('LREM', KEYS[2], 0, ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], 'broken', 1, 'count', 0)
  wake_all('broken')
  return 'broken'
end
local msg = redis.call('LPOP', KEYS[3])
redis.call('DEL', KEYS[3])
return msg or 'broken'
`,
});

/** `{count, broken}`. */
export const BARRIER_INFO = defineScript({
  name: "barrier.info",
  keys: ["state", "waiters"],
  lua: INIT + `
return {tonumber(redis.call('HGET', KEYS[1], 'count')), tonumber(redis.call('HGET', KEYS[1], 'broken'))}
`,
});
