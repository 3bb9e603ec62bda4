import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkChoice, checkInteger, checkOptions, checkTimeout, MAX_TIMER_MS, show } from "../src/validate.ts";

describe("argument checks", () => {
  test("show() tells values apart that String() would confuse", () => {
    assert.equal(show("5"), '"5"');
    assert.equal(show(5), "5");
    assert.equal(show(-0), "-0");
    assert.equal(show(10n), "10n");
    assert.equal(show(false), "false");
    assert.equal(show(null), "null");
    assert.equal(show(undefined), "undefined");
    assert.equal(show([1, 2]), "an array of length 2");
    assert.equal(show({}), "an object");
    assert.equal(show(Object.create(null)), "an object");
    assert.equal(show(new Map()), "a Map");
    assert.equal(show(function named() {}), "function named");
    assert.equal(show("x".repeat(100)).length, 43, "long strings are cut");
  });

  test("show() survives a Proxy whose traps throw", () => {
    const hostile = new Proxy({}, { getPrototypeOf() { throw new Error("trap"); } });
    assert.equal(show(hostile), "an object");
  });

  test("checkInteger: TypeError for a non-number, RangeError for NaN, fractions, infinities and bounds", () => {
    assert.equal(checkInteger("n", 3, { min: 1, max: 3 }), 3);
    assert.throws(() => checkInteger("n", "3"), { name: "TypeError", message: 'n must be an integer, got "3"' });
    for (const bad of [Number.NaN, 1.5, Infinity, -Infinity, 2 ** 53]) assert.throws(() => checkInteger("n", bad), RangeError);
    assert.throws(() => checkInteger("n", 0, { min: 1 }), { name: "RangeError", message: "n must be an integer >= 1, got 0" });
    assert.throws(() => checkInteger("n", 4, { min: 1, max: 3 }), { name: "RangeError", message: "n must be an integer from 1 to 3, got 4" });
  });

  test("checkTimeout: forever for undefined, null, Infinity and longer than a timer holds; negative acts as 0 (as CPython)", () => {
    for (const forever of [undefined, null, Infinity, MAX_TIMER_MS + 1]) assert.equal(checkTimeout("t", forever), undefined);
    assert.equal(checkTimeout("t", MAX_TIMER_MS), MAX_TIMER_MS);
    assert.equal(checkTimeout("t", -5), 0);
    assert.equal(checkTimeout("t", 2.5), 2.5);
    assert.throws(() => checkTimeout("t", Number.NaN), { name: "RangeError", message: /t .* got NaN/ });
    assert.throws(() => checkTimeout("t", "5"), { name: "TypeError", message: /t .* got "5"/ });
  });

  test("checkOptions: undefined and null are no options; a non-object or an unknown key is a TypeError", () => {
    assert.deepEqual(checkOptions("o", undefined, ["a"]), {});
    assert.deepEqual(checkOptions("o", null, ["a"]), {});
    assert.throws(() => checkOptions("o", [], ["a"]), { name: "TypeError", message: "o must be an object, got an array of length 0" });
    assert.throws(() => checkOptions("o", { b: 1 }, ["a"]), { name: "TypeError", message: 'o: unknown option "b" (expected "a")' });
  });

  test("checkChoice: TypeError for a non-string, RangeError for another string", () => {
    assert.equal(checkChoice("m", "x", ["x", "y"]), "x");
    assert.throws(() => checkChoice("m", 1, ["x", "y"]), { name: "TypeError", message: 'm must be "x" or "y", got 1' });
    assert.throws(() => checkChoice("m", "z", ["x", "y"]), { name: "RangeError", message: 'm must be "x" or "y", got "z"' });
  });
});
