import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  booleanOption,
  checkUpdate,
  choiceOption,
  defaultsOf,
  fromEnv,
  group,
  integerOption,
  nullable,
  optional,
  recordOption,
  type Schema,
  stringListOption,
  stringOption,
} from "../src/config_options.ts";

interface Demo {
  net: { host?: string; port: number };
  verbose: boolean;
  mode: "a" | "b";
  extra: Record<string, unknown>;
  out: string | null;
}

const SCHEMA: Schema<Demo> = {
  net: group({
    host: optional(stringOption({ default: "", env: "DEMO_HOST" })),
    port: integerOption({ default: 80, env: "DEMO_PORT", min: 1, max: 65535 }),
  }),
  verbose: booleanOption({ default: false, env: "DEMO_VERBOSE" }),
  mode: choiceOption({ default: "a", env: "DEMO_MODE", choices: ["a", "b"] as const }),
  extra: recordOption({ default: {}, env: "DEMO_EXTRA" }),
  out: nullable(stringOption({ default: "" })),
};

describe("config options", () => {
  test("the defaults come from the schema, groups nested", () => {
    assert.deepEqual(defaultsOf(SCHEMA), { net: { host: undefined, port: 80 }, verbose: false, mode: "a", extra: {}, out: null });
  });

  test("an update is checked key by key and copied; undefined means not set", () => {
    const extra = { k: 1 };
    const checked = checkUpdate(SCHEMA, { net: { port: 8080, host: undefined }, out: null, extra }, "demo");
    assert.deepEqual(checked, { net: { port: 8080 }, out: null, extra: { k: 1 } });
    assert.notEqual(checked.extra, extra);
  });

  test("unknown keys are refused at every level, with the known ones listed", () => {
    assert.throws(() => checkUpdate(SCHEMA, { verbos: true }, "demo"), { name: "TypeError", message: /demo: unknown option "verbos" \(known: "net", "verbose"/ });
    assert.throws(() => checkUpdate(SCHEMA, { net: { prot: 1 } }, "demo"), { name: "TypeError", message: /demo\.net: unknown option "prot"/ });
    assert.throws(() => checkUpdate(SCHEMA, { net: 443 }, "demo"), { name: "TypeError", message: /demo\.net must be a plain object of settings, got 443/ });
  });

  test("each kind refuses the wrong type with TypeError and a bad value with RangeError", () => {
    assert.throws(() => checkUpdate(SCHEMA, { net: { port: 70000 } }, "demo"), { name: "RangeError", message: /demo\.net\.port must be an integer from 1 to 65535, got 70000/ });
    assert.throws(() => checkUpdate(SCHEMA, { mode: "c" }, "demo"), { name: "RangeError", message: /demo\.mode must be "a" or "b", got "c"/ });
    assert.throws(() => checkUpdate(SCHEMA, { verbose: "true" }, "demo"), { name: "TypeError", message: /demo\.verbose must be true or false, got "true"/ });
    assert.throws(() => checkUpdate(SCHEMA, { out: 1 }, "demo"), { name: "TypeError", message: /demo\.out .* got 1/ });
    assert.throws(() => checkUpdate(SCHEMA, { extra: Object.create({ inherited: 1 }) }, "demo"), { name: "TypeError", message: /demo\.extra must be a plain object/ });
  });

  test("environment variables are read only for options that name one, and parsed by kind", () => {
    const env: Record<string, string> = { DEMO_PORT: "8443", DEMO_VERBOSE: "1", DEMO_EXTRA: '{"a":[1]}', DEMO_MODE: "b" };
    assert.deepEqual(fromEnv(SCHEMA, (name) => env[name]), { net: { port: 8443 }, verbose: true, mode: "b", extra: { a: [1] } });
    assert.deepEqual(fromEnv(SCHEMA, () => undefined), {});
  });

  test("a bad environment value is a RangeError naming the variable and showing its text", () => {
    const bad = (vars: Record<string, string>) => () => fromEnv(SCHEMA, (name) => vars[name]);
    assert.throws(bad({ DEMO_PORT: "80x" }), { name: "RangeError", message: /DEMO_PORT .* got "80x"/ });
    assert.throws(bad({ DEMO_PORT: "0" }), { name: "RangeError", message: /DEMO_PORT .* got 0/ });
    assert.throws(bad({ DEMO_VERBOSE: "yes" }), { name: "RangeError", message: /DEMO_VERBOSE must be true, false, 1 or 0, got "yes"/ });
    assert.throws(bad({ DEMO_EXTRA: "{a:1}" }), { name: "RangeError", message: /DEMO_EXTRA must be a plain object in JSON, got "\{a:1\}"/ });
    assert.throws(bad({ DEMO_EXTRA: "[1]" }), { name: "TypeError", message: /DEMO_EXTRA must be a plain object, got an array/ });
  });

  test("a string list is checked item by item, and its variable is comma-separated", () => {
    const list = stringListOption({ default: [], pattern: /^[a-z]+$/, rule: "lowercase letters" });
    const given = ["a", "bc"];
    const checked = list.check(given, "demo.list");
    assert.deepEqual(checked, ["a", "bc"]);
    assert.notEqual(checked, given);
    assert.deepEqual(list.parse(" a, bc ,,", "DEMO_LIST"), ["a", "bc"]);
    assert.throws(() => list.check("a,bc", "demo.list"), { name: "TypeError", message: /demo\.list must be an array of strings \(each lowercase letters\), got "a,bc"/ });
    assert.throws(() => list.check(["a", "B"], "demo.list"), { name: "RangeError", message: /demo\.list\[1\] must be lowercase letters, got "B"/ });
    assert.throws(() => list.parse("a,B1", "DEMO_LIST"), { name: "RangeError", message: /DEMO_LIST\[1\] must be lowercase letters, got "B1"/ });
  });
});
