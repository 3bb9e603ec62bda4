/**
 * Lua scripts of `Queue`, `JoinableQueue` and `SimpleQueue`.
 *
 * Keys of one queue (`…:queue:{id}:{sub}`):
 * - `items` — the list of encoded items (RPUSH in, LPOP out: FIFO);
 * - `notfull` — wake-up tokens for putters blocked on a full bounded queue.
 *   Every get that frees a slot pushes one; a blocked putter BLPOPs it and
 *   then retries. The list length of `items` is the only truth about free
 *   slots, so a stale token only causes one harmless retry; the list is
 *   capped at `maxsize` (a blocked BLPOP is served at once, so tokens pile
 *   up only while no putter waits, and `maxsize` of them wake every putter
 *   that can possibly get a slot);
 * - `unfinished` — the JoinableQueue count of items put but not yet done;
 * - `joiners` — how many `join()` callers are registered for the next time
 *   `unfinished` reaches 0; `joinwake` — the tokens pushed to them then.
 *
 * `put` and `get` run on every item, so their scripts refresh the keys'
 * expiry lazily (see `touch: "lazy"` in redis.ts): each gives a TTL to the
 * keys it creates (RPUSH/INCR returning 1), and the refresh of existing
 * keys runs only when this process has not done it for a tenth of
 * `redisExpiryTime`.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

/**
 * Appends an item if the queue has room. Returns 1 when it was put, 0 when
 * the queue is full. A JoinableQueue counts the item as unfinished in the
 * same step, so `join()` can never see it put but not counted.
 *
 * KEYS: items, unfinished. ARGV: maxsize (0 = unbounded), joinable (`1`/`0`), item.
 */
export const QUEUE_PUT = defineScript({
  name: "queue.put",
  keys: ["items", "unfinished"],
  touch: "lazy",
  lua: `
local maxsize = tonumber(ARGV[1])
if maxsize > 0 and redis.call('LLEN', KEYS[1]) >= maxsize then return 0 end
if redis.call('RPUSH', KEYS[1], ARGV[3]) == 1 and not TOUCH then touch(KEYS[1]) end
if ARGV[2] == '1' and redis.call('INCR', KEYS[2]) == 1 and not TOUCH then touch(KEYS[2]) end
return 1
`,
});

/**
 * Takes the oldest item without blocking (nil when empty); on a bounded
 * queue it also leaves a wake-up token for a blocked putter.
 *
 * KEYS: items, notfull. ARGV: maxsize.
 */
export const QUEUE_GET = defineScript({
  name: "queue.get",
  keys: ["items", "notfull"],
  touch: "lazy",
  lua: `
local v = redis.call('LPOP', KEYS[1])
if not v then return false end
local maxsize = tonumber(ARGV[1])
if maxsize > 0 then
  local n = redis.call('RPUSH', KEYS[2], '1')
  if n == 1 then
    if not TOUCH then touch(KEYS[2]) end
  elseif n > maxsize then
    redis.call('LTRIM', KEYS[2], 0, maxsize - 1)
  end
end
return v
`,
});

/**
 * Gives an item back to the head of the queue: a get whose reply came only
 * after its caller's timeout (Redis was frozen) must not lose it.
 *
 * KEYS: items. ARGV: item.
 */
export const QUEUE_UNGET = defineScript({
  name: "queue.unget",
  keys: ["items"],
  lua: `
return redis.call('LPUSH', KEYS[1], ARGV[1])
`,
});

/**
 * Takes back an item put after its caller's timeout (Redis was frozen and
 * the caller was told the put failed): removes one copy of it, nearest the
 * tail, and its unfinished count.
 *
 * KEYS: items, unfinished. ARGV: joinable (`1`/`0`), item.
 */
export const QUEUE_UNPUT = defineScript({
  name: "queue.unput",
  keys: ["items", "unfinished"],
  lua: `
local n = redis.call('LREM', KEYS[1], -1, ARGV[2])
if n == 1 and ARGV[1] == '1' then redis.call('DECR', KEYS[2]) end
return n
`,
});

/**
 * Marks one item done. When the count reaches 0, every registered joiner
 * gets a token. Errors (StateError) when called more often than items
 * were put.
 *
 * KEYS: unfinished, joiners, joinwake. Returns the count left.
 */
export const QUEUE_TASK_DONE = defineScript({
  name: "queue.taskDone",
  keys: ["unfinished", "joiners", "joinwake"],
  lua: `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n <= 0 then return redis.error_reply('STATE task_done() called too many times') end
n = redis.call('DECR', KEYS[1])
if n == 0 then
  local w = tonumber(redis.call('GET', KEYS[2]) or '0')
  for i = 1, w do redis.call('RPUSH', KEYS[3], '1') end
  redis.call('DEL', KEYS[2])
end
return n
`,
});

/**
 * `join()`'s check: 1 when no task is unfinished; otherwise registers the
 * caller as a joiner (it then BLPOPs `joinwake`) and returns 0. Check and
 * registration are one step, so a `taskDone()` in between cannot be missed.
 *
 * KEYS: unfinished, joiners.
 */
export const QUEUE_JOIN = defineScript({
  name: "queue.join",
  keys: ["unfinished", "joiners"],
  lua: `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n <= 0 then return 1 end
redis.call('INCR', KEYS[2])
return 0
`,
});
