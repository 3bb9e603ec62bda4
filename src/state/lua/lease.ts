/**
 * Lua for leases: a lease is a member of a sorted set whose score is the
 * server time (ms) at which it expires. Holders renew theirs in the
 * background (see `src/state/lease.ts`).
 *
 * @module
 */
import { defineScript } from "../redis.ts";

/**
 * Renews leases that still exist. KEYS: the lease set, then other keys of
 * the primitive whose expiry is refreshed with it. ARGV: lease ms,
 * then the members. Returns the members that are gone (released by someone
 * else, or expired and reaped): their holder must forget them.
 */
export const RENEW_LEASES = defineScript({
  name: "lease.renew",
  keys: ["leases", "touch..."],
  lua: `
local deadline = now_ms() + tonumber(ARGV[1])
local gone = {}
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score then
    redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i])
  else
    gone[#gone + 1] = ARGV[i]
  end
end
return gone
`,
});

/**
 * Renews a `Lock` owner key (whose expiry is its holder's lease) if it still
 * holds `token` (marked `token|w` or not, see `lua/lock.ts`). KEYS: owner.
 * ARGV: lease ms, token. Returns 1 if renewed, 0 if the lock was released
 * (by anyone) or the lease expired.
 */
export const RENEW_OWNER = defineScript({
  name: "lease.renewOwner",
  keys: ["owner"],
  touchKeys: false,
  lua: `
local v = redis.call('GET', KEYS[1])
if v ~= ARGV[2] and v ~= ARGV[2] .. '|w' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`,
});
