/**
 * Lua scripts of `Value`, `RawValue`, `SharedArray` and `RawArray`.
 *
 * One Redis string per object holds its items packed little-endian
 * (`…:value:{id}` / `…:array:{id}`); an item is read with GETRANGE and
 * written with SETRANGE, each atomic. A missing key or a short string reads
 * as zeros (SETRANGE pads with zero bytes), so a zero-initialised object
 * needs no write at all; a non-zero initial content is written by the first
 * script any handle runs (`SET … NX` semantics: never over a live value).
 *
 * @module
 */
import { defineScript } from "../redis.ts";

const SEED = `
if ARGV[1] ~= '' and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
end
`;

/**
 * Reads `length` bytes at byte `offset`.
 *
 * KEYS: the packed string. ARGV: initial content (`''` = zeros or already
 * seeded), offset, length.
 */
export const PACKED_READ = defineScript({
  name: "value.read",
  keys: ["packed"],
  lua: `${SEED}
local n = tonumber(ARGV[3])
if n <= 0 then return '' end
local off = tonumber(ARGV[2])
return redis.call('GETRANGE', KEYS[1], off, off + n - 1)
`,
});

/**
 * Writes bytes at byte `offset`.
 *
 * KEYS: the packed string. ARGV: initial content (as for
 * {@link PACKED_READ}), offset, bytes.
 */
export const PACKED_WRITE = defineScript({
  name: "value.write",
  keys: ["packed"],
  lua: `${SEED}
if #ARGV[3] > 0 then redis.call('SETRANGE', KEYS[1], tonumber(ARGV[2]), ARGV[3]) end
return 1
`,
});
