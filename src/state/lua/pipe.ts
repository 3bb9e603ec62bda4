/**
 * Lua scripts of `Pipe` / `Connection` (the `"redislist"` connection type).
 *
 * A pipe has one Redis list per direction (`…:pipe:{id}:c0`, `…:c1`); each
 * element is one message, so boundaries are kept and empty messages exist.
 * Every element starts with a tag byte: `D` + payload for data, a lone `E`
 * for end-of-file (pushed by the writing end's `close()`). The EOF marker
 * is never consumed, so every later `recv` sees it too. `…:r0`/`…:r1` mark
 * that the reading end of that direction closed, so a send to it fails
 * instead of piling up unread data.
 *
 * @module
 */
import { defineScript } from "../redis.ts";

/** Tag byte of a data message. */
export const DATA_TAG = 0x44; // "D"
/** The whole element that marks end-of-file. */
export const EOF_MARK = "E";

/**
 * Appends one message, unless the reading end has closed.
 *
 * KEYS: channel, reader-closed flag. ARGV: the tagged message.
 */
export const PIPE_SEND = defineScript({
  name: "pipe.send",
  keys: ["channel", "readerClosed"],
  lua: `
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('STATE the other end of the pipe is closed')
end
return redis.call('RPUSH', KEYS[1], ARGV[1])
`,
});

/**
 * Takes the next message without blocking. Returns nil when there is
 * none, `E` (left in place) at end-of-file, `{length}` (left in place)
 * when the payload is longer than `maxlength`, else the tagged message.
 *
 * KEYS: channel. ARGV: maxlength (`-1` = no limit).
 */
export const PIPE_TRY_RECV = defineScript({
  name: "pipe.tryRecv",
  keys: ["channel"],
  lua: `
local v = redis.call('LINDEX', KEYS[1], 0)
if not v then return false end
if v == 'E' then return v end
local max = tonumber(ARGV[1])
if max >= 0 and #v - 1 > max then return { #v - 1 } end
redis.call('LPOP', KEYS[1])
return v
`,
});

/**
 * Puts the end-of-file marker back at the head after a BLPOP took it, so
 * that it stays visible to later reads.
 *
 * KEYS: channel.
 */
export const PIPE_EOF_BACK = defineScript({
  name: "pipe.eofBack",
  keys: ["channel"],
  lua: `
redis.call('LPUSH', KEYS[1], 'E')
return 1
`,
});

/**
 * Closes one end: the writing direction gets the end-of-file marker
 * (unless its reader is gone already), the reading direction is marked
 * closed and its unread messages dropped.
 *
 * KEYS: write channel, its reader-closed flag, read channel, its
 * reader-closed flag. ARGV: has-write (`1`/`0`), has-read (`1`/`0`).
 */
export const PIPE_CLOSE = defineScript({
  name: "pipe.close",
  keys: ["writeChannel", "writeReaderClosed", "readChannel", "readReaderClosed"],
  lua: `
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[1], 'E')
end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[3])
  redis.call('SET', KEYS[4], '1')
end
return 1
`,
});
