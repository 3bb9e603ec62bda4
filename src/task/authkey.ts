/**
 * The authkey: a secret shared by the processes of one program (and by
 * whoever the user gives it to), as CPython's `multiprocessing` `authkey`.
 * Records that carry code or a location — a handle's Redis URL and session,
 * a `Barrier`'s action — travel with an HMAC-SHA256 of their fields under
 * this key, and a receiver runs or connects to nothing whose MAC does not
 * verify. Anyone able to write to the Redis but without the key can then
 * hand a process only plain data.
 *
 * The key is `config.authkey` (env `SKYPOOL_AUTHKEY`); a program that
 * configures none makes a random one on first use and hands it to its own
 * workers through their environment ({@link authkeyEnvironment}), never on
 * a command line.
 *
 * Everything here is synchronous (the codec is), with `node:crypto`, which
 * Deno provides too.
 *
 * @module
 */
import type { KeyObject } from "node:crypto";
import { config } from "../config.ts";
import { SerializationError } from "../errors.ts";
import { nodeCrypto } from "../runtime/builtins.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

/** The environment variable that carries the key to another process. */
export const AUTHKEY_ENV = "SKYPOOL_AUTHKEY";

/**
 * Every MAC input starts with this, so a skypool MAC cannot be replayed as
 * the HMAC of some other protocol sharing the key, and a later format can
 * change it.
 */
const DOMAIN = "skypool-authkey-v1";

/**
 * MACs already made, by message, for the key they were made with: a handle
 * shipped in every task of a `map` is then hashed once, not once per task
 * and side. Bounded in count and in message size (a `SharedArray`'s record
 * carries its initial content).
 */
const MAX_CACHED = 1024;
const MAX_CACHED_MESSAGE = 4096;

let generated: string | undefined;
let cached: { key: string; object: KeyObject; macs: Map<string, string> } | undefined;

/**
 * This program's key: `config.authkey` (or `SKYPOOL_AUTHKEY`) if set,
 * otherwise one made from 32 random bytes on first use and kept for the
 * life of the process (`config.reset()` does not change it).
 *
 * @example
 * ```ts
 * import { authkey } from "./src/task/authkey.ts";
 * console.assert(authkey() === authkey() && authkey().length >= 16);
 * ```
 * @throws {RangeError} from the configuration when `SKYPOOL_AUTHKEY` is set
 *   to a key shorter than 16 characters.
 */
export function authkey(): string {
  return config.get().authkey ?? (generated ??= nodeCrypto().randomBytes(32).toString("base64url"));
}

/**
 * The variables a child process of this program needs to share its key
 * (merge them into the child's environment, not its arguments, which other
 * users can read).
 *
 * @example
 * ```ts
 * import { authkey, authkeyEnvironment } from "./src/task/authkey.ts";
 * console.assert(authkeyEnvironment().SKYPOOL_AUTHKEY === authkey());
 * ```
 * @throws {RangeError} as {@link authkey}.
 */
export function authkeyEnvironment(): Record<string, string> {
  return { [AUTHKEY_ENV]: authkey() };
}

function macOf(message: string, key: string): string {
  if (cached?.key !== key) cached = { key, object: nodeCrypto().createSecretKey(nodeBuffer().from(key, "utf8")), macs: new Map() };
  const { object, macs } = cached;
  let mac = macs.get(message);
  if (mac === undefined) {
    mac = nodeCrypto().createHmac("sha256", object).update(message).digest("base64url");
    if (message.length <= MAX_CACHED_MESSAGE) {
      if (macs.size >= MAX_CACHED) macs.delete(macs.keys().next().value as string);
      macs.set(message, mac);
    }
  }
  return mac;
}

/**
 * The MAC of a record: HMAC-SHA256, as base64url, over the JSON array
 * `[domain, kind, ...fields]`. JSON makes the bytes canonical and the
 * boundaries unambiguous (`("ab", ["c"])` and `("a", ["bc"])` differ, lone
 * surrogates are escaped rather than replaced), and `kind` keeps a MAC made
 * for one kind of record from verifying as another.
 *
 * @param kind what the record is (`"handle:queue"`…).
 * @param fields the exact fields that must not change.
 * @param key the key (default: {@link authkey}).
 * @example
 * ```ts
 * import { sign, verify } from "./src/task/authkey.ts";
 * const mac = sign("doc", ["redis://127.0.0.1:6379"]);
 * console.assert(verify("doc", ["redis://127.0.0.1:6379"], mac));
 * console.assert(!verify("doc", ["redis://evil:6379"], mac));
 * ```
 * @throws {TypeError} if `kind` is not a string or a field is not a string.
 */
export function sign(kind: string, fields: readonly string[], key: string = authkey()): string {
  if (typeof kind !== "string") throw new TypeError(`sign: kind must be a string, got ${typeof kind}`);
  for (const f of fields) {
    if (typeof f !== "string") throw new TypeError(`sign: every field must be a string, got ${typeof f}`);
  }
  return macOf(JSON.stringify([DOMAIN, kind, ...fields]), key);
}

/**
 * Whether `mac` is the MAC of `kind` and `fields` under `key`. The text of
 * the MAC is compared, in constant time, so no other spelling of the same
 * bytes is accepted.
 *
 * @example
 * ```ts
 * import { sign, verify } from "./src/task/authkey.ts";
 * const mac = sign("doc", ["a"], "0123456789abcdef-one");
 * console.assert(!verify("doc", ["a"], mac, "0123456789abcdef-two"));
 * console.assert(!verify("doc", ["a"], undefined));
 * ```
 * @throws {TypeError} as {@link sign}.
 */
export function verify(kind: string, fields: readonly string[], mac: unknown, key: string = authkey()): boolean {
  const expected = sign(kind, fields, key);
  if (typeof mac !== "string" || mac.length !== expected.length) return false;
  // Every character is compared whatever the first difference, so the time
  // taken does not tell a forger how much of a guess was right.
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ mac.charCodeAt(i);
  return diff === 0;
}

/**
 * Refuses a record whose MAC does not verify, before anything in it is
 * used.
 *
 * @param what names the record in the message (`"a queue handle"`).
 * @example
 * ```ts
 * import { requireSigned, sign } from "./src/task/authkey.ts";
 * requireSigned("doc", ["a"], sign("doc", ["a"]), "a doc record");
 * try {
 *   requireSigned("doc", ["b"], sign("doc", ["a"]), "a doc record");
 * } catch (err) {
 *   console.assert((err as Error).name === "SerializationError");
 * }
 * ```
 * @throws {SerializationError} naming `what` when the MAC is missing or
 *   does not match (tampered, or made with another key).
 */
export function requireSigned(kind: string, fields: readonly string[], mac: unknown, what: string): void {
  if (mac === undefined || mac === null) {
    throw new SerializationError(
      `refused ${what}: it carries no authkey signature (records with code or a Redis location must be signed; ` +
        `processes of different programs share them only with the same ${AUTHKEY_ENV})`,
    );
  }
  if (!verify(kind, fields, mac)) {
    throw new SerializationError(
      `refused ${what}: its authkey signature does not match (the record was changed, ` +
        `or signed by a process with another ${AUTHKEY_ENV})`,
    );
  }
}
