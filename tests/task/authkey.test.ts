import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes, randomInt } from "node:crypto";
import process from "node:process";
import { config } from "../../src/config.ts";
import { SerializationError } from "../../src/errors.ts";
import { authkey, authkeyEnvironment, requireSigned, sign, verify } from "../../src/task/authkey.ts";

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Strings from every class JSON treats differently: ASCII, quotes and escapes, controls, astral, lone surrogates. */
function randomText(): string {
  const pieces = ["", "a", "Z9", '"', "\\", "\n", "\u0000", "é", "漢", "😀", "\uD800", "\uDC00", ",", "[", ":", "redis://h:1"];
  let s = "";
  for (let n = randomInt(0, 8); n > 0; n--) s += pieces[randomInt(pieces.length)];
  return s + randomBytes(randomInt(0, 12)).toString("base64url");
}

function randomKey(): string {
  return randomBytes(randomInt(12, 48)).toString("base64url");
}

function randomRecord(): { kind: string; fields: string[]; key: string } {
  return { kind: randomText(), fields: Array.from({ length: randomInt(0, 6) }, randomText), key: randomKey() };
}

/** `mac` with the character at `i` replaced by a different base64url character. */
function flipChar(mac: string, i: number): string {
  const other = B64URL[(B64URL.indexOf(mac[i]) + randomInt(1, B64URL.length)) % B64URL.length];
  return mac.slice(0, i) + other + mac.slice(i + 1);
}

describe("authkey: sign and verify", () => {
  test("the MAC is HMAC-SHA256 (checked with WebCrypto) over the JSON of [domain, kind, ...fields], in base64url", async () => {
    for (let i = 0; i < 20; i++) {
      const { kind, fields, key } = randomRecord();
      const k = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const data = new TextEncoder().encode(JSON.stringify(["skypool-authkey-v1", kind, ...fields]));
      const expected = Buffer.from(await crypto.subtle.sign("HMAC", k, data)).toString("base64url");
      assert.equal(sign(kind, fields, key), expected);
      assert.equal(expected.length, 43);
    }
  });

  test("a record verifies under its key, as many times as it is checked", () => {
    for (let i = 0; i < 50; i++) {
      const { kind, fields, key } = randomRecord();
      const mac = sign(kind, fields, key);
      assert.ok(verify(kind, fields, mac, key));
      assert.ok(verify(kind, [...fields], mac, key));
    }
    // Long records (a SharedArray's initial content) are not cached, and verify the same way.
    const long = randomBytes(randomInt(5000, 20000)).toString("base64");
    const key = randomKey();
    assert.ok(verify("long", [long], sign("long", [long], key), key));
    assert.equal(verify("long", [long + "A"], sign("long", [long], key), key), false);
  });

  test("changing any field, the kind, or the number of fields breaks the MAC", () => {
    for (let i = 0; i < 50; i++) {
      const { kind, fields, key } = randomRecord();
      const mac = sign(kind, fields, key);
      assert.equal(verify(kind + randomText() + "x", fields, mac, key), false, "kind changed");
      for (let f = 0; f < fields.length; f++) {
        const changed = [...fields];
        changed[f] = changed[f] + "\u0000";
        assert.equal(verify(kind, changed, mac, key), false, `field ${f} extended`);
        changed[f] = randomText() + "!";
        assert.equal(verify(kind, changed, mac, key), false, `field ${f} replaced`);
      }
      assert.equal(verify(kind, [...fields, ""], mac, key), false, "a field added");
      if (fields.length > 0) assert.equal(verify(kind, fields.slice(1), mac, key), false, "a field dropped");
    }
  });

  test("changing any character of the MAC, its case, or its length breaks it; so does another type", () => {
    const { kind, fields, key } = randomRecord();
    const mac = sign(kind, fields, key);
    for (let i = 0; i < mac.length; i++) assert.equal(verify(kind, fields, flipChar(mac, i), key), false, `char ${i}`);
    const recased = mac.replace(/[a-z]/, (c) => c.toUpperCase());
    if (recased !== mac) assert.equal(verify(kind, fields, recased, key), false, "case");
    assert.equal(verify(kind, fields, mac.slice(0, -1), key), false, "truncated");
    assert.equal(verify(kind, fields, mac + "A", key), false, "extended");
    assert.equal(verify(kind, fields, mac + "=", key), false, "padded");
    assert.equal(verify(kind, fields, "", key), false, "empty");
    for (const wrongType of [undefined, null, 0, Buffer.from(mac), [mac], { mac }]) {
      assert.equal(verify(kind, fields, wrongType, key), false, String(wrongType));
    }
  });

  test("a MAC made with another key does not verify", () => {
    for (let i = 0; i < 50; i++) {
      const { kind, fields, key } = randomRecord();
      let other = randomKey();
      if (other === key) other += "x";
      assert.equal(verify(kind, fields, sign(kind, fields, other), key), false);
      assert.equal(verify(kind, fields, sign(kind, fields, key), key + "x"), false, "a key that only extends this one");
    }
  });

  test("kinds and field boundaries cannot be confused", () => {
    const key = randomKey();
    const a = randomText() + "a", b = randomText() + "b", c = randomText() + "c";
    assert.equal(verify(a + b, [c], sign(a, [b + c], key), key), false, "kind/field boundary");
    assert.equal(verify(a, [b + c], sign(a, [b, c], key), key), false, "field/field boundary");
    assert.equal(verify("handle:barrier", [a, b], sign("handle:queue", [a, b], key), key), false, "one kind as another");
    assert.equal(verify(a, [b, ""], sign(a, [b], key), key), false, "trailing empty field");
    // Lone surrogates stay distinct from U+FFFD, which a plain UTF-8 encoding would make them.
    assert.equal(verify(a, ["\uFFFD"], sign(a, ["\uD800"], key), key), false, "lone surrogate");
    assert.equal(verify(a, ["\uDC00"], sign(a, ["\uD800"], key), key), false, "two lone surrogates");
  });

  test("sign refuses what is not a string, naming the argument", () => {
    assert.throws(() => sign(5 as never, []), (e: unknown) => e instanceof TypeError && /kind must be a string/.test(e.message));
    assert.throws(() => sign("k", ["a", 5 as never]), (e: unknown) => e instanceof TypeError && /every field must be a string, got number/.test(e.message));
  });
});

describe("authkey: requireSigned", () => {
  test("passes a signed record and refuses a missing or wrong MAC with a SerializationError naming the record", () => {
    const { kind, fields } = randomRecord();
    requireSigned(kind, fields, sign(kind, fields), "a test record");
    assert.throws(
      () => requireSigned(kind, fields, undefined, "a test record"),
      (e: unknown) => e instanceof SerializationError && /refused a test record: it carries no authkey signature/.test(e.message),
    );
    assert.throws(
      () => requireSigned(kind, [...fields, "x"], sign(kind, fields), "a test record"),
      (e: unknown) => e instanceof SerializationError && /refused a test record: its authkey signature does not match/.test(e.message),
    );
  });
});

describe("authkey: the key", () => {
  // The tests set the variable themselves; one the caller exported comes back after them.
  const outer = process.env.SKYPOOL_AUTHKEY;
  before(() => {
    delete process.env.SKYPOOL_AUTHKEY;
    config.reset();
  });
  afterEach(() => {
    delete process.env.SKYPOOL_AUTHKEY;
    config.reset();
  });
  after(() => {
    if (outer !== undefined) process.env.SKYPOOL_AUTHKEY = outer;
    config.reset();
  });

  test("with none configured, one random 32-byte key is made and kept, across config.reset()", () => {
    const key = authkey();
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(key, "base64url").length, 32);
    config.reset();
    assert.equal(authkey(), key);
    assert.deepEqual(authkeyEnvironment(), { SKYPOOL_AUTHKEY: key });
  });

  test("config authkey wins; SKYPOOL_AUTHKEY is read from the environment; the generated key comes back after reset", () => {
    const generated = authkey();
    const fromEnv = randomKey() + "-env";
    process.env.SKYPOOL_AUTHKEY = fromEnv;
    config.reset();
    assert.equal(authkey(), fromEnv);
    const set = randomKey() + "-set";
    config.set({ authkey: set });
    assert.equal(authkey(), set);
    assert.deepEqual(authkeyEnvironment(), { SKYPOOL_AUTHKEY: set });
    const { kind, fields } = randomRecord();
    assert.ok(verify(kind, fields, sign(kind, fields), set), "sign uses the configured key by default");
    delete process.env.SKYPOOL_AUTHKEY;
    config.reset();
    assert.equal(authkey(), generated);
  });

  test("a key that is not a string of at least 16 characters is refused, naming the option and not echoing the key", () => {
    const short = "key-" + randomBytes(6).toString("hex").slice(0, randomInt(1, 12));
    assert.throws(
      () => config.set({ authkey: short }),
      (e: unknown) => e instanceof RangeError && /^config\.authkey must be a string of at least 16 characters, got .*a key of \d+ characters/.test(e.message) && !e.message.includes(short),
    );
    assert.throws(() => config.set({ authkey: 1234567890123456789 as never }), (e: unknown) => e instanceof TypeError && /^config\.authkey must be a string of at least 16 characters, got \d+/.test(e.message));
    process.env.SKYPOOL_AUTHKEY = short;
    config.reset();
    assert.throws(() => authkey(), (e: unknown) => e instanceof RangeError && /^SKYPOOL_AUTHKEY must be a string of at least 16 characters, got .*a key of \d+ characters/.test(e.message) && !e.message.includes(short));
  });
});
