// Test helper (not a test file): compares two values as graphs, checking
// that shared references and cycles of `expected` are mirrored in `actual`.
import assert from "node:assert/strict";

const TYPED = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;

function bytesOf(v: ArrayBufferView | ArrayBuffer): number[] {
  return v instanceof ArrayBuffer ? [...new Uint8Array(v)] : [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)];
}

/**
 * Asserts that `actual` has the same shape, values and prototypes as
 * `expected`, and that two places hold the same object in `actual` exactly
 * when they do in `expected`. Array holes compare equal to `undefined`
 * (that is how they travel).
 */
function show(v: unknown): string {
  if (typeof v === "object" && v !== null) return Object.prototype.toString.call(v);
  if (typeof v === "symbol" || typeof v === "bigint") return `${v.toString()}${typeof v === "bigint" ? "n" : ""}`;
  return JSON.stringify(v) ?? String(v);
}

export function assertSameGraph(actual: unknown, expected: unknown, path = "value"): void {
  const forward = new Map<object, object>();
  const backward = new Map<object, object>();
  const visit = (a: unknown, e: unknown, p: string): void => {
    if (typeof e !== "object" || e === null) {
      if (!Object.is(a, e)) assert.fail(`${p}: expected ${show(e)}, got ${show(a)}`);
      return;
    }
    if (typeof a !== "object" || a === null) assert.fail(`${p}: expected ${show(e)}, got ${show(a)}`);
    const seen = forward.get(e);
    if (seen !== undefined) {
      assert.ok(seen === a, `${p}: identity not preserved`);
      return;
    }
    assert.ok(!backward.has(a), `${p}: two distinct objects were merged into one`);
    forward.set(e, a);
    backward.set(a, e);
    if (!(e instanceof Error)) {
      assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(e), `${p}: prototype`);
    }
    if (Array.isArray(e)) {
      const arr = a as unknown[];
      assert.equal(arr.length, e.length, `${p}.length`);
      for (let i = 0; i < e.length; i++) visit(arr[i], e[i], `${p}[${i}]`);
    } else if (e instanceof Map) {
      const ea = [...e], aa = [...(a as Map<unknown, unknown>)];
      assert.equal(aa.length, ea.length, `${p}.size`);
      for (let i = 0; i < ea.length; i++) {
        visit(aa[i][0], ea[i][0], `${p}.keys()[${i}]`);
        visit(aa[i][1], ea[i][1], `${p}.values()[${i}]`);
      }
    } else if (e instanceof Set) {
      const ea = [...e], aa = [...(a as Set<unknown>)];
      assert.equal(aa.length, ea.length, `${p}.size`);
      for (let i = 0; i < ea.length; i++) visit(aa[i], ea[i], `${p}.values()[${i}]`);
    } else if (e instanceof Date) {
      assert.ok(Object.is((a as Date).getTime(), e.getTime()), `${p}: date`);
    } else if (e instanceof RegExp) {
      assert.equal((a as RegExp).source, e.source, `${p}.source`);
      assert.equal((a as RegExp).flags, e.flags, `${p}.flags`);
    } else if (e instanceof ArrayBuffer || ArrayBuffer.isView(e)) {
      assert.deepEqual(bytesOf(a as ArrayBuffer), bytesOf(e), `${p}: bytes`);
      if (ArrayBuffer.isView(e)) {
        assert.equal((a as ArrayBufferView).byteLength, e.byteLength, `${p}.byteLength`);
        for (const T of TYPED) if (e instanceof T) assert.ok(a instanceof T, `${p}: ${T.name}`);
      }
    } else if (e instanceof Error) {
      const ae = a as Error;
      assert.ok(ae instanceof Error, `${p}: an Error`);
      assert.equal(ae.message, e.message, `${p}.message`);
      assert.equal(ae.stack, e.stack, `${p}.stack`);
      assert.equal(Object.hasOwn(ae, "cause"), Object.hasOwn(e, "cause"), `${p}: has cause`);
      if (Object.hasOwn(e, "cause")) visit(ae.cause, e.cause, `${p}.cause`);
      for (const k of Object.keys(e)) {
        if (k !== "name") visit((ae as unknown as Record<string, unknown>)[k], (e as unknown as Record<string, unknown>)[k], `${p}.${k}`);
      }
      if (e instanceof AggregateError) visit((ae as AggregateError).errors, e.errors, `${p}.errors`);
    } else {
      const ek = Object.keys(e), ak = Object.keys(a);
      assert.deepEqual(ak, ek, `${p}: keys`);
      for (const k of ek) {
        visit((a as Record<string, unknown>)[k], (e as Record<string, unknown>)[k], `${p}[${JSON.stringify(k)}]`);
      }
    }
  };
  visit(actual, expected, path);
}
