/**
 * Lua for the Manager's containers: dict and Namespace proxies (one
 * layout), list proxies, and the Manager's shutdown.
 *
 * Every container script takes the container's tombstone key last (it
 * shares the container's hash tag, so a script touches one slot of a Redis
 * Cluster): `Manager.shutdown()` writes one per container, and from then on
 * every operation on any proxy of that manager, in any process, fails with
 * a `StateError` instead of silently working on emptied state.
 *
 * A container made with initial content also has a `ready` key, a list of
 * one element that the seeding script pushes: a proxy that was shipped
 * while that write was still in flight waits for it (without consuming it,
 * by rotating it with BRPOPLPUSH) before its first call. Every script takes
 * `ready` among its keys so that it lives exactly as long as the data.
 *
 * Dict layout — KEYS: `data` (hash: field → encoded value), `order`
 * (sorted set: field → insertion sequence number, so that keys, values and
 * entries come back in insertion order and `popitem` takes the newest),
 * `ready`, `tomb`. A field is the key's type tag plus its text (`s…` for a string,
 * `n…` for a number), so `1` and `"1"` stay apart as in Python. Setting an
 * existing key keeps its place; deleting it and setting it again moves it
 * to the end (Python's dict order).
 *
 * List layout — KEYS: `items` (a Redis list of encoded values), `ready`, `tomb`.
 * Encoded values are never empty, so the empty string serves as a
 * placeholder for the index-based edits (`pop(i)`, `insert(i, v)`) that
 * Redis only offers by value.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

/** The message of the `StateError` a proxy of a shut-down manager gets. */
export const SHUT_DOWN_MESSAGE = "the Manager that made this object was shut down";

const ALIVE = `
if redis.call('EXISTS', KEYS[#KEYS]) == 1 then
  return redis.error_reply('STATE ${SHUT_DOWN_MESSAGE}')
end
`;

/**
 * How many elements the `ready` list holds (0: not seeded yet, or a
 * container made without initial content). KEYS: ready, tomb.
 */
export const CONTAINER_READY = defineScript({
  name: "manager.ready",
  keys: ["ready", "tomb"],
  lua: ALIVE + `return redis.call('LLEN', KEYS[1])`,
});

// ---------------------------------------------------------------------------
// dict (and Namespace)

const DICT_KEYS = ["data", "order", "ready", "tomb"] as const;

const DICT = ALIVE + `
local function next_seq()
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  if #last == 0 then return 1 end
  return tonumber(last[2]) + 1
end
`;

/** The encoded value of a field, or nil. ARGV: field. */
export const DICT_GET = defineScript({
  name: "dict.get",
  keys: DICT_KEYS,
  lua: DICT + `return redis.call('HGET', KEYS[1], ARGV[1])`,
});

/** 1 if the field exists, else 0. ARGV: field. */
export const DICT_HAS = defineScript({
  name: "dict.has",
  keys: DICT_KEYS,
  lua: DICT + `return redis.call('HEXISTS', KEYS[1], ARGV[1])`,
});

// Sets ARGV's field/value pairs, keeping the insertion order.
const UPDATE = `
local seq = nil
for i = 1, #ARGV, 2 do
  if redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    if seq == nil then seq = next_seq() end
    redis.call('ZADD', KEYS[2], seq, ARGV[i])
    seq = seq + 1
  end
end
`;

/**
 * Sets fields (a new field goes to the end of the order, an existing one
 * keeps its place). ARGV: field, value, field, value, … Returns the size.
 */
export const DICT_UPDATE = defineScript({
  name: "dict.update",
  keys: DICT_KEYS,
  lua: DICT + UPDATE + `return redis.call('HLEN', KEYS[1])`,
});

/** Writes a new dict's initial content (as {@link DICT_UPDATE}) and marks it ready. */
export const DICT_SEED = defineScript({
  name: "dict.seed",
  keys: DICT_KEYS,
  lua: DICT + UPDATE + `
redis.call('DEL', KEYS[3])
redis.call('RPUSH', KEYS[3], '1')
return 1
`,
});

/** Removes a field; 1 if it existed, else 0. ARGV: field. */
export const DICT_DELETE = defineScript({
  name: "dict.delete",
  keys: DICT_KEYS,
  lua: DICT + `
local n = redis.call('HDEL', KEYS[1], ARGV[1])
if n == 1 then redis.call('ZREM', KEYS[2], ARGV[1]) end
return n
`,
});

/** Removes a field and returns its encoded value (nil if missing). ARGV: field. */
export const DICT_POP = defineScript({
  name: "dict.pop",
  keys: DICT_KEYS,
  lua: DICT + `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return v
`,
});

/** Removes the newest field; returns `{field, value}`, or nil when empty. */
export const DICT_POPITEM = defineScript({
  name: "dict.popitem",
  keys: DICT_KEYS,
  lua: DICT + `
local last = redis.call('ZRANGE', KEYS[2], -1, -1)
if #last == 0 then return nil end
local f = last[1]
local v = redis.call('HGET', KEYS[1], f)
redis.call('HDEL', KEYS[1], f)
redis.call('ZREM', KEYS[2], f)
return {f, v}
`,
});

/**
 * Returns the field's value if it exists; otherwise sets it to ARGV[2]
 * and returns that. ARGV: field, encoded default.
 */
export const DICT_SETDEFAULT = defineScript({
  name: "dict.setdefault",
  keys: DICT_KEYS,
  lua: DICT + `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then return v end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], next_seq(), ARGV[1])
return ARGV[2]
`,
});

/** The number of fields. */
export const DICT_SIZE = defineScript({
  name: "dict.size",
  keys: DICT_KEYS,
  lua: DICT + `return redis.call('HLEN', KEYS[1])`,
});

/**
 * A snapshot in insertion order. ARGV: `k` (fields), `v` (values) or `kv`
 * (field, value, field, value, …).
 */
export const DICT_ITEMS = defineScript({
  name: "dict.items",
  keys: DICT_KEYS,
  lua: DICT + `
local fields = redis.call('ZRANGE', KEYS[2], 0, -1)
if ARGV[1] == 'k' then return fields end
local out = {}
for i = 1, #fields, 1000 do
  local chunk = {}
  for j = i, math.min(i + 999, #fields) do chunk[#chunk + 1] = fields[j] end
  local vals = redis.call('HMGET', KEYS[1], unpack(chunk))
  for j = 1, #chunk do
    if vals[j] then
      if ARGV[1] == 'kv' then out[#out + 1] = chunk[j] end
      out[#out + 1] = vals[j]
    end
  end
end
return out
`,
});

/** Removes every field. */
export const DICT_CLEAR = defineScript({
  name: "dict.clear",
  keys: DICT_KEYS,
  lua: DICT + `
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`,
});

// ---------------------------------------------------------------------------
// list

const LIST_KEYS = ["items", "ready", "tomb"] as const;

const LIST = ALIVE + `
local function push(values, from)
  for i = from, #values, 1000 do
    redis.call('RPUSH', KEYS[1], unpack(values, i, math.min(i + 999, #values)))
  end
end
-- Python's slice bounds: negative counts from the end, then clamp to [0, n].
local function bound(v, default, n)
  if v == nil or v == '' then return default end
  local x = tonumber(v)
  if x < 0 then
    x = x + n
    if x < 0 then x = 0 end
  elseif x > n then
    x = n
  end
  return x
end
`;

/** The encoded item at an index (negative from the end), nil if out of range. ARGV: index. */
export const LIST_GET = defineScript({
  name: "list.get",
  keys: LIST_KEYS,
  lua: LIST + `return redis.call('LINDEX', KEYS[1], ARGV[1])`,
});

/** Replaces the item at an index; 1, or 0 if out of range. ARGV: index, value. */
export const LIST_SET = defineScript({
  name: "list.set",
  keys: LIST_KEYS,
  lua: LIST + `
local n = redis.call('LLEN', KEYS[1])
local i = tonumber(ARGV[1])
if i < 0 then i = i + n end
if i < 0 or i >= n then return 0 end
redis.call('LSET', KEYS[1], i, ARGV[2])
return 1
`,
});

/** Appends the values (ARGV, possibly none); returns the new length. */
export const LIST_PUSH = defineScript({
  name: "list.push",
  keys: LIST_KEYS,
  lua: LIST + `
push(ARGV, 1)
return redis.call('LLEN', KEYS[1])
`,
});

/** Writes a new list's initial items (ARGV) and marks it ready. */
export const LIST_SEED = defineScript({
  name: "list.seed",
  keys: LIST_KEYS,
  lua: LIST + `
push(ARGV, 1)
redis.call('DEL', KEYS[2])
redis.call('RPUSH', KEYS[2], '1')
return 1
`,
});

/**
 * Removes and returns the item at an index (default -1). ARGV: index.
 * Returns `{0}` for an empty list, `{1}` for an index out of range, or
 * `{2, value}`.
 */
export const LIST_POP = defineScript({
  name: "list.pop",
  keys: LIST_KEYS,
  lua: LIST + `
local n = redis.call('LLEN', KEYS[1])
if n == 0 then return {0} end
local i = tonumber(ARGV[1])
if i < 0 then i = i + n end
if i < 0 or i >= n then return {1} end
local v
if i == n - 1 then
  v = redis.call('RPOP', KEYS[1])
elseif i == 0 then
  v = redis.call('LPOP', KEYS[1])
else
  v = redis.call('LINDEX', KEYS[1], i)
  redis.call('LSET', KEYS[1], i, '')
  redis.call('LREM', KEYS[1], 1, '')
end
return {2, v}
`,
});

/**
 * Inserts before an index, clamped as Python's `list.insert`. ARGV: index,
 * value. Returns the new length.
 */
export const LIST_INSERT = defineScript({
  name: "list.insert",
  keys: LIST_KEYS,
  lua: LIST + `
local n = redis.call('LLEN', KEYS[1])
local i = bound(ARGV[1], 0, n)
if i == 0 then
  redis.call('LPUSH', KEYS[1], ARGV[2])
elseif i >= n then
  redis.call('RPUSH', KEYS[1], ARGV[2])
else
  local pivot = redis.call('LINDEX', KEYS[1], i)
  redis.call('LSET', KEYS[1], i, '')
  redis.call('LINSERT', KEYS[1], 'BEFORE', '', ARGV[2])
  redis.call('LSET', KEYS[1], i + 1, pivot)
end
return n + 1
`,
});

/** Removes the first item equal (byte for byte) to ARGV[1]; 1, or 0 if none. */
export const LIST_REMOVE = defineScript({
  name: "list.remove",
  keys: LIST_KEYS,
  lua: LIST + `return redis.call('LREM', KEYS[1], 1, ARGV[1])`,
});

/**
 * The first index of a value within `[start, stop)` (Python slice bounds;
 * `''` for none), or -1. ARGV: value, start, stop.
 */
export const LIST_INDEX = defineScript({
  name: "list.index",
  keys: LIST_KEYS,
  lua: LIST + `
local n = redis.call('LLEN', KEYS[1])
local s = bound(ARGV[2], 0, n)
local e = bound(ARGV[3], n, n)
if s >= e then return -1 end
local found = redis.call('LPOS', KEYS[1], ARGV[1], 'RANK', 1, 'COUNT', 0, 'MAXLEN', e)
for _, p in ipairs(found) do
  if p >= s then return p end
end
return -1
`,
});

/** How many items equal ARGV[1] byte for byte. */
export const LIST_COUNT = defineScript({
  name: "list.count",
  keys: LIST_KEYS,
  lua: LIST + `return #redis.call('LPOS', KEYS[1], ARGV[1], 'COUNT', 0)`,
});

/** The length. */
export const LIST_LENGTH = defineScript({
  name: "list.length",
  keys: LIST_KEYS,
  lua: LIST + `return redis.call('LLEN', KEYS[1])`,
});

/** The items in `[start, stop)` (Python slice bounds; `''` for none). ARGV: start, stop. */
export const LIST_SLICE = defineScript({
  name: "list.slice",
  keys: LIST_KEYS,
  lua: LIST + `
local n = redis.call('LLEN', KEYS[1])
local s = bound(ARGV[1], 0, n)
local e = bound(ARGV[2], n, n)
if s >= e then return {} end
return redis.call('LRANGE', KEYS[1], s, e - 1)
`,
});

/** Removes every item. */
export const LIST_CLEAR = defineScript({
  name: "list.clear",
  keys: LIST_KEYS,
  lua: LIST + `
redis.call('DEL', KEYS[1])
return 1
`,
});

// ---------------------------------------------------------------------------
// Manager

/**
 * Shuts a manager's container down: writes its tombstone (KEYS[1]; it gets
 * the usual expiry, refreshed whenever a stale proxy trips over it) and
 * deletes the container's other keys given, in one step. Returns how many
 * keys were deleted.
 */
export const MANAGER_SHUTDOWN = defineScript({
  name: "manager.shutdown",
  keys: ["tomb", "key..."],
  lua: `
redis.call('SET', KEYS[1], '1')
local n = 0
for i = 2, #KEYS do n = n + redis.call('DEL', KEYS[i]) end
return n
`,
});
