import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4.3.0";
import { Buffer } from "node:buffer";
import { decode, encode, registerHandle } from "../../src/task/codec.ts";
import { RemoteError, SerializationError, StateError, TimeoutError } from "../../src/errors.ts";
import { assertSameGraph } from "./codec_graph.ts";

const roundTrip = <T>(v: T): T => decode(encode(v)) as T;

function check(v: unknown): void {
  assertSameGraph(roundTrip(v), v);
}

function refusal(value: unknown, path?: string): string {
  try {
    encode(value, path === undefined ? undefined : { path });
  } catch (err) {
    assert.ok(err instanceof SerializationError, `expected a SerializationError, got ${err}`);
    return err.message;
  }
  assert.fail("encode did not refuse the value");
}

function decodeError(bytes: Uint8Array): SerializationError {
  try {
    decode(bytes);
  } catch (err) {
    assert.ok(err instanceof SerializationError, `expected a SerializationError, got ${(err as Error)?.stack ?? err}`);
    return err;
  }
  assert.fail("decode accepted the bytes");
}

describe("codec: values round-trip", () => {
  test("JSON types", () => {
    for (const v of [null, true, false, 0, 1, -1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 53, 1.5, -1e300, ""]) {
      check(v);
    }
    check("a short string");
    check({ a: 1, b: [1, "two", { c: null }], d: { e: { f: [] } } });
    check([[], {}, [[{}]]]);
  });

  test("undefined, NaN, -0, ±Infinity", () => {
    check(undefined);
    check([undefined, NaN, -0, 0, Infinity, -Infinity]);
    assert.ok(Object.is(roundTrip(-0), -0));
    assert.ok(Object.is(roundTrip({ z: -0 }).z, -0));
    assert.ok(Object.is(roundTrip(0), 0));
  });

  test("numbers in arrays keep their exact value and sign at every integer width, across buffer growth", () => {
    const edges = [0, -0, 1, 23, 24, 255, 256, 65535, 65536, -1, -24, -25, 2 ** 32 - 1, 2 ** 32, 0.5, -0.5, NaN, Infinity, 1e21];
    // Long enough that the writer's buffer grows many times in the middle of the array.
    const long = Array.from({ length: 300_000 }, (_, i) => edges[i % edges.length]);
    // Three bytes each, larger than any message before it (the writer keeps its grown buffer).
    const wide = Array.from({ length: 1_000_000 }, (_, i) => 256 + (i % 65_280));
    for (const arr of [wide, edges, long, [...edges].reverse(), [-0], [65535, -0, 65536]]) {
      const back = roundTrip(arr);
      assert.equal(back.length, arr.length);
      for (let i = 0; i < arr.length; i++) {
        if (!Object.is(back[i], arr[i])) assert.fail(`item ${i}: sent ${Object.is(arr[i], -0) ? "-0" : arr[i]}, got ${Object.is(back[i], -0) ? "-0" : back[i]}`);
      }
    }
    fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: -70_000, max: 70_000 }), fc.double(), fc.constant(-0))), (arr) => {
      const back = roundTrip(arr);
      return back.length === arr.length && arr.every((x, i) => Object.is(back[i], x));
    }));
  });

  test("bigint of any size keeps its type", () => {
    for (const v of [0n, 1n, -1n, 255n, 2n ** 32n, 2n ** 64n - 1n, -(2n ** 64n), 2n ** 64n, -(2n ** 64n) - 1n, 7n ** 500n, -(3n ** 999n)]) {
      const back = roundTrip(v);
      assert.equal(typeof back, "bigint");
      assert.equal(back, v);
    }
  });

  test("strings: unicode, long, and lone surrogates", () => {
    const samples = [
      "héllo wörld", "日本語テキスト", "emoji 😀👍🏽", "x".repeat(63), "x".repeat(64), "é".repeat(63), "ab".repeat(40_000),
      "\ud800", "a\udc00b", "\ud83d", "😀\ud800😀", "é".repeat(100) + "\udfff", "\ud800".repeat(70_000),
      "é".repeat(32), "é".repeat(33), "\ufeff", "\ufeffshort", "\ufeff" + "x".repeat(100), "\ufeff" + "é".repeat(40),
      "\ufeff".repeat(5000), "\u0000nul\u0000", "\u{10ffff}".repeat(20),
    ];
    for (const s of samples) assert.equal(roundTrip(s), s);
    const big = "0123456789abcdef".repeat(1 << 16);
    assert.equal(roundTrip(big), big);
    const key = "\ufeff" + "k".repeat(80);
    assert.deepEqual(Object.keys(roundTrip({ [key]: 1 })), [key]);
  });

  test("many mid-sized ASCII strings (sent in one bundle) mixed with others", () => {
    const values = Array.from({ length: 2000 }, (_, i) =>
      i % 5 === 0 ? `naïve-${i}-${"é".repeat(i % 40)}` : i % 7 === 0 ? `s${i}` : `user${i}@example.com`.padEnd(16 + (i % 48), "x"));
    check(values);
    check({ [values[1]]: values[2], nested: [values.slice(0, 50), new Map([[values[3], values[4]]])] });
    check(["x".repeat(16), "y".repeat(63), "z".repeat(64), "w".repeat(15)]);
  });

  test("Date (also invalid), RegExp, Map, Set", () => {
    check(new Date(0));
    check(new Date(8.64e15));
    check(new Date(-123456789));
    check(new Date(1700000000123));
    const invalid = roundTrip(new Date(NaN));
    assert.ok(invalid instanceof Date && Number.isNaN(invalid.getTime()));
    const re = roundTrip(/a(b+)c/gimsuy);
    assert.ok(re instanceof RegExp);
    assert.equal(re.source, "a(b+)c");
    assert.equal(re.flags, "gimsuy");
    check(new Map<unknown, unknown>([[1, "one"], ["k", { v: [1] }], [{ o: 1 }, new Set([1])], [null, undefined]]));
    check(new Set<unknown>([1, "1", 1n, null, undefined, { a: 1 }]));
  });

  test("typed arrays, DataView, ArrayBuffer and Buffer keep their class", () => {
    const values = [
      new Int8Array([-1, 2]), new Uint8Array([1, 2, 3]), new Uint8ClampedArray([0, 255]), new Int16Array([-300]),
      new Uint16Array([65535]), new Int32Array([-(2 ** 31)]), new Uint32Array([2 ** 32 - 1]), new Float32Array([1.5, NaN]),
      new Float64Array([Math.PI, -0]), new BigInt64Array([-(2n ** 63n)]), new BigUint64Array([2n ** 64n - 1n]),
      new Float64Array(1000).map((_, i) => i / 7), new Uint8Array(0), new ArrayBuffer(0), Uint8Array.of(9, 8, 7).buffer,
    ];
    for (const v of values) check(v);
    const dv = new DataView(Uint8Array.of(1, 2, 3, 4).buffer, 1, 2);
    const backDv = roundTrip(dv);
    assert.ok(backDv instanceof DataView);
    assert.deepEqual([...new Uint8Array(backDv.buffer, backDv.byteOffset, backDv.byteLength)], [2, 3]);
    const buf = roundTrip(Buffer.from("buffer bytes"));
    assert.ok(Buffer.isBuffer(buf));
    assert.equal(buf.toString(), "buffer bytes");
  });

  const F16 = (globalThis as { Float16Array?: new (a: number[]) => ArrayBufferView }).Float16Array;
  test("a Float16Array round-trips as itself", { skip: F16 === undefined ? "this runtime has no Float16Array" : false }, () => {
    const back = roundTrip(new F16!([1.5, -2, 65504]));
    assert.equal(back.constructor, F16);
    assert.deepEqual([...(back as unknown as Iterable<number>)], [1.5, -2, 65504]);
  });

  test("a view sends only the bytes it covers", () => {
    const whole = new Float64Array(100).map((_, i) => i);
    const part = whole.subarray(10, 13);
    const back = roundTrip(part);
    assert.deepEqual([...back], [10, 11, 12]);
    assert.equal(back.buffer.byteLength >= 24, true);
    assert.ok(encode(part).length < 100);
  });

  test("a large typed array decodes as an aligned view of the input, a misaligned one as a copy", () => {
    const f = new Float64Array(4096).map((_, i) => i * 1.5);
    const bytes = encode(f);
    const view = decode(bytes) as Float64Array;
    assert.equal(view.buffer, bytes.buffer, "aligned payload decodes without a copy");
    assert.equal(view.byteOffset % 8, 0);
    assert.deepEqual([...view.subarray(0, 4)], [0, 1.5, 3, 4.5]);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const copy = decode(shifted.subarray(1)) as Float64Array;
    assert.notEqual(copy.buffer, shifted.buffer);
    assert.equal(copy[4095], 4095 * 1.5);
    const small = decode(encode(new Float64Array([1, 2]))) as Float64Array;
    assert.equal(small.buffer.byteLength, 16, "a small array is copied into its own buffer");
  });

  test("an 8 MiB Float64Array round-trips and its encoding is barely larger than its bytes", () => {
    const f = new Float64Array(1 << 20).map((_, i) => i);
    const bytes = encode(f);
    assert.ok(bytes.length >= f.byteLength && bytes.length < f.byteLength + 32, `encoded ${bytes.length} bytes`);
    const back = decode(bytes) as Float64Array;
    assert.equal(back.length, f.length);
    assert.equal(back[123456], 123456);
    assert.equal(back[(1 << 20) - 1], (1 << 20) - 1);
  });

  test("ArrayBuffer decodes as its own buffer", () => {
    const ab = new Uint8Array(5000).fill(3).buffer;
    const bytes = encode(ab);
    const back = decode(bytes) as ArrayBuffer;
    assert.ok(back instanceof ArrayBuffer);
    assert.equal(back.byteLength, 5000);
    assert.notEqual(back, bytes.buffer);
  });

  test("plain objects: prototypes, key order, awkward keys", () => {
    const nullProto = Object.assign(Object.create(null), { a: 1, b: { c: 2 } });
    check(nullProto);
    const proto = JSON.parse('{"__proto__": {"x": 1}, "a": 2}');
    const back = roundTrip(proto);
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.deepEqual(Object.keys(back), ["__proto__", "a"]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(back, "__proto__")?.value, { x: 1 });
    check({ 2: "two", 1: "one", b: "b", a: "a", "": "empty", "with space": 1, "ünï": 2 });
    check({ constructor: 1, toString: "x", hasOwnProperty: null });
  });

  test("many shapes, large objects and mixed shapes in one message", () => {
    const many = Array.from({ length: 9000 }, (_, i) => ({ [`k${i}`]: i, common: i }));
    check(many);
    const wide = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`key${i}`, i]));
    check([wide, wide === null ? 0 : { ...wide }]);
    check([{ a: 1, b: 2 }, { b: 1, a: 2 }, { a: 1 }, { a: 1, b: 2, c: 3 }, { a: { a: { a: 1 } } }]);
    check(Array.from({ length: 30 }, (_, i) => Object.fromEntries(Array.from({ length: i }, (_, j) => [`f${j}`, j]))));
  });

  test("shapes are redefined in every message", () => {
    const row = { id: 1, name: "x" };
    const a = encode([row, row === null ? 0 : { ...row }]);
    const b = encode([{ id: 2, name: "y" }]);
    assert.deepEqual(decode(b), [{ id: 2, name: "y" }]);
    assert.deepEqual(decode(a), [row, row]);
  });

  test("enumerable properties added to Object.prototype are not sent", () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = "yes";
    try {
      const back = roundTrip({ a: 1, b: { c: 2 } }) as Record<string, unknown>;
      assert.deepEqual(Object.keys(back), ["a", "b"]);
      assert.ok(!Object.hasOwn(back, "polluted"));
    } finally {
      delete proto.polluted;
    }
  });

  test("sparse arrays: holes arrive as undefined; getters are read", () => {
    // deno-lint-ignore no-sparse-arrays
    const sparse = [1, , 3];
    const back = roundTrip(sparse);
    assert.equal(back.length, 3);
    assert.ok(1 in back);
    assert.equal(back[1], undefined);
    const withGetter = { get g() { return 42; } };
    assert.deepEqual(roundTrip(withGetter), { g: 42 });
  });

  test("symbol-keyed properties are not sent", () => {
    const s = Symbol("meta");
    const back = roundTrip({ a: 1, [s]: 2 });
    assert.deepEqual(Object.getOwnPropertySymbols(back), []);
    assert.deepEqual(back, { a: 1 });
  });
});

describe("codec: shared references and cycles", () => {
  test("a shared object stays one object", () => {
    const shared = { n: 1 };
    const back = roundTrip({ a: shared, b: [shared, shared] });
    assert.equal(back.a, back.b[0]);
    assert.equal(back.b[0], back.b[1]);
    assert.deepEqual(back.a, { n: 1 });
  });

  test("sharing is found at any depth: containers of containers, empty ones, rows sharing a nested list", () => {
    const inner = { deep: [[{ x: 1 }]] };
    const empty: unknown[] = [];
    const tags = ["a", "b"];
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, tags: i % 10 === 7 ? tags : [String(i)] }));
    const back = roundTrip({ one: inner, two: inner, e: [empty, {}, empty], rows, tags });
    assert.equal(back.one, back.two);
    assert.equal(back.one.deep[0][0], back.two.deep[0][0]);
    assert.equal(back.e[0], back.e[2]);
    assert.notEqual(back.e[1], back.e[0]);
    assert.equal(back.rows[7].tags, back.tags);
    assert.equal(back.rows[17].tags, back.tags);
    assert.notEqual(back.rows[8].tags, back.rows[9].tags);
    assert.deepEqual(back.rows.map((r) => r.tags.join()), rows.map((r) => r.tags.join()));
  });

  test("a cycle of plain objects with no leaf comes back as the same cycle", () => {
    const a: { next?: unknown } = {};
    const b: { next?: unknown } = { next: a };
    a.next = b;
    const back = roundTrip([a]) as [{ next: { next: unknown } }];
    assert.equal(back[0].next.next, back[0]);
  });

  test("self-cycles through every container kind", () => {
    const obj: Record<string, unknown> = { name: "o" };
    obj.self = obj;
    const arr: unknown[] = [1];
    arr.push(arr);
    const map = new Map<unknown, unknown>();
    map.set("self", map);
    map.set(map, "as key");
    const set = new Set<unknown>();
    set.add(set);
    const nul = Object.create(null) as Record<string, unknown>;
    nul.me = nul;
    const err = new Error("loop") as Error & { self?: unknown };
    err.cause = err;
    err.self = err;
    const agg = new AggregateError([], "agg");
    (agg as { errors: unknown[] }).errors = [agg];
    for (const v of [obj, arr, map, set, nul, err, agg]) check(v);
    const back = roundTrip([obj, arr, map, set, err]);
    const [o, a, m, s, e] = back as [typeof obj, unknown[], Map<unknown, unknown>, Set<unknown>, Error & { self?: unknown }];
    assert.equal(o.self, o);
    assert.equal(a[1], a);
    assert.equal(m.get("self"), m);
    assert.equal(m.get(m), "as key");
    assert.ok(s.has(s));
    assert.equal(e.cause, e);
    assert.equal(e.self, e);
  });

  test("the root itself referenced from inside", () => {
    const root: { children: unknown[] } = { children: [] };
    root.children.push({ parent: root }, { parent: root });
    const back = roundTrip(root);
    assert.equal((back.children[0] as { parent: unknown }).parent, back);
    assert.equal((back.children[1] as { parent: unknown }).parent, back);
  });

  test("shared leaves (Date, typed array, handle-free bytes) keep identity", () => {
    const d = new Date(5);
    const f = new Float64Array([1, 2]);
    const ab = new ArrayBuffer(4);
    const re = /x/g;
    const back = roundTrip([d, d, f, f, ab, ab, re, re]);
    assert.equal(back[0], back[1]);
    assert.equal(back[2], back[3]);
    assert.equal(back[4], back[5]);
    assert.equal(back[6], back[7]);
    assert.ok(back[0] instanceof Date && back[2] instanceof Float64Array && back[4] instanceof ArrayBuffer);
  });

  test("a deep linked cycle and a DAG of many shared nodes", () => {
    type Node = { i: number; next?: Node };
    const head: Node = { i: 0 };
    let cur = head;
    for (let i = 1; i < 500; i++) cur = cur.next = { i };
    cur.next = head;
    check(head);
    const nodes = Array.from({ length: 200 }, (_, i) => ({ i }));
    const dag = Array.from({ length: 1000 }, (_, i) => ({ left: nodes[i % 200], right: nodes[(i * 7) % 200] }));
    check(dag);
  });
});

  test("sharing is found among tens of thousands of rows, wherever the two references sit", () => {
    // On Node the writer keeps the rows it met in sets of a few thousand each (and
    // past some count, in one that grows): pair a row with one in every such
    // set, first and last ones included.
    const n = 80_000;
    for (const [first, second] of [[0, n - 1], [4095, 4096], [0, 4096], [5000, 70_000], [n - 2, n - 1], [70_000, 79_999]]) {
      const rows = Array.from({ length: n }, (_, i) => ({ i, tags: [i] }));
      rows[second] = rows[first];
      const back = roundTrip(rows);
      assert.equal(back.length, n);
      assert.equal(back[second], back[first], `rows ${first} and ${second} should be one object`);
      assert.equal(back[second].i, first);
      assert.equal(new Set(back).size, n - 1, "every other row is its own object");
      assert.deepEqual(back.map((r) => r.i), rows.map((r) => r.i));
    }
  });

describe("codec: errors", () => {
  test("built-in classes come back as themselves with the remote stack", () => {
    for (const C of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
      const e = new C("boom");
      const back = roundTrip(e);
      assert.equal(Object.getPrototypeOf(back), C.prototype);
      assert.equal(back.message, "boom");
      assert.equal(back.name, C.name);
      assert.equal(back.stack, e.stack);
      assert.ok(!Object.hasOwn(back, "cause"));
      assert.deepEqual(Object.keys(back), []);
    }
  });

  test("cause (recursively, any value), own fields, renamed built-ins", () => {
    const inner = new RangeError("inner", { cause: { code: 7, list: [1, 2] } });
    const outer = Object.assign(new Error("outer", { cause: inner }), { code: "E_OUTER", errno: -2, detail: { path: "/x" } });
    const back = roundTrip(outer);
    assert.ok(back.cause instanceof RangeError);
    assert.deepEqual((back.cause as Error).cause, { code: 7, list: [1, 2] });
    assert.equal(back.code, "E_OUTER");
    assert.equal(back.errno, -2);
    assert.deepEqual(back.detail, { path: "/x" });
    assert.equal(Object.getOwnPropertyDescriptor(back, "cause")?.enumerable, false);
    const renamed = new Error("x");
    renamed.name = "AbortError";
    const r = roundTrip(renamed);
    assert.equal(Object.getPrototypeOf(r), Error.prototype);
    assert.equal(r.name, "AbortError");
    const undefinedCause = roundTrip(new Error("u", { cause: undefined }));
    assert.ok(Object.hasOwn(undefinedCause, "cause"));
    assert.equal(undefinedCause.cause, undefined);
  });

  test("AggregateError keeps its errors", () => {
    const agg = new AggregateError([new TypeError("a"), "plain", { x: 1 }], "many");
    const back = roundTrip(agg);
    assert.ok(back instanceof AggregateError);
    assert.equal(back.message, "many");
    assert.ok(back.errors[0] instanceof TypeError);
    assert.equal(back.errors[1], "plain");
    assert.deepEqual(back.errors[2], { x: 1 });
  });

  test("skypool's own error classes come back as themselves", () => {
    const t = roundTrip(new TimeoutError("late"));
    assert.ok(t instanceof TimeoutError);
    assert.equal(t.name, "TimeoutError");
    assert.equal(t.message, "late");
    const s = roundTrip(new StateError("bad state"));
    assert.ok(s instanceof StateError);
    const r = roundTrip(new RemoteError("KeyError", "missing", "KeyError: missing\n  at remote"));
    assert.ok(r instanceof RemoteError);
    assert.equal(r.remoteName, "KeyError");
    assert.equal(r.remoteStack, "KeyError: missing\n  at remote");
    assert.equal(r.message, "missing");
  });

  test("other classes become RemoteError with the original name, stack and fields", () => {
    class MyErr extends Error {
      code = "E_MINE";
    }
    const e = new MyErr("mine");
    const back = roundTrip(e) as RemoteError & { code?: string };
    assert.ok(back instanceof RemoteError);
    assert.equal(back.remoteName, "MyErr");
    assert.equal(back.message, "mine");
    assert.equal(back.remoteStack, e.stack);
    assert.equal(back.stack, e.stack);
    assert.equal(back.code, "E_MINE");
    class Named extends TypeError {
      constructor(m: string) {
        super(m);
        this.name = "NamedError";
      }
    }
    assert.equal((roundTrip(new Named("n")) as RemoteError).remoteName, "NamedError");
    class Sub extends RangeError {}
    assert.equal((roundTrip(new Sub("s")) as RemoteError).remoteName, "Sub");
    const spoof = Object.assign(new (class Foreign extends Error {})("f"), { remoteName: "spoofed" });
    assert.equal((roundTrip(spoof) as RemoteError).remoteName, "Foreign");
  });

  test("an error inside data and an error with a stack it did not have", () => {
    const e = new Error("no stack");
    Object.defineProperty(e, "stack", { value: undefined });
    const back = roundTrip({ errors: [e] });
    assert.equal(back.errors[0].message, "no stack");
    assert.equal(typeof back.errors[0].stack, "string");
  });
});

describe("codec: handles", () => {
  class Ticket {
    constructor(readonly no: number, readonly note = "") {}
  }
  class VipTicket extends Ticket {}
  registerHandle("test.ticket", Ticket, (t) => ({ no: t.no, note: t.note }), (r) => {
    const rec = r as { no: number; note: string };
    return new Ticket(rec.no, rec.note);
  });

  test("instances travel as records and are rebuilt by fromRecord", () => {
    const back = roundTrip({ t: new Ticket(7, "seat 3") });
    assert.ok(back.t instanceof Ticket);
    assert.equal(back.t.no, 7);
    assert.equal(back.t.note, "seat 3");
    const sub = roundTrip(new VipTicket(8));
    assert.ok(sub instanceof Ticket);
    assert.equal(sub.no, 8);
  });

  test("a handle referenced twice arrives as one object", () => {
    const t = new Ticket(1);
    const back = roundTrip([t, { again: t }] as [Ticket, { again: Ticket }]);
    assert.equal(back[0], back[1].again);
  });

  test("registering a kind for another class is a TypeError; bad arguments too", () => {
    class Other {}
    assert.throws(() => registerHandle("test.ticket", Other, () => ({}), () => new Other()), TypeError);
    assert.throws(() => registerHandle("", Other, () => ({}), () => new Other()), TypeError);
    assert.throws(() => registerHandle("test.x", {} as never, () => ({}), () => new Other()), TypeError);
    assert.throws(() => registerHandle("test.y", Other, null as never, () => new Other()), TypeError);
    // The same class again (a module evaluated twice) is accepted.
    registerHandle("test.ticket", Ticket, (t) => ({ no: t.no, note: t.note }), (r) => new Ticket((r as { no: number }).no));
  });

  test("an unknown kind on decode is a SerializationError naming it", () => {
    class Ghost {}
    registerHandle("test.ghost", Ghost, () => ({}), () => new Ghost());
    const bytes = encode(new Ghost());
    // Rewrite the kind in the bytes: "test.ghost" → "test.ghoul".
    const needle = new TextEncoder().encode("test.ghost");
    const at = bytes.findIndex((_, i) => needle.every((b, j) => bytes[i + j] === b));
    assert.ok(at > 0);
    const forged = bytes.slice();
    forged.set(new TextEncoder().encode("test.ghoul"), at);
    const err = decodeError(forged);
    assert.match(err.message, /unknown kind "test\.ghoul"/);
  });

  test("a toRecord that throws is a SerializationError with the path", () => {
    class Broken {}
    registerHandle("test.broken", Broken, () => {
      throw new Error("no location");
    }, () => new Broken());
    assert.equal(
      refusal({ h: [new Broken()] }, "args"),
      "cannot serialize args.h[0]: its test.broken handle record could not be made: no location",
    );
  });
});

describe("codec: refusals name the path", () => {
  class Point {
    constructor(readonly x: number) {}
    norm() {
      return Math.abs(this.x);
    }
  }

  test("functions, symbols and class instances", () => {
    assert.equal(refusal([{ callback: () => 1 }], "args"), "cannot serialize args[0].callback: a function");
    assert.equal(refusal({ s: Symbol("x") }), "cannot serialize value.s: a symbol");
    assert.equal(refusal(async () => {}), "cannot serialize value: a function");
    assert.equal(refusal({ C: class {} }), "cannot serialize value.C: a class");
    assert.equal(
      refusal([1, new Point(2)], "args"),
      "cannot serialize args[1]: an instance of class Point (only plain objects, arrays and built-in data types travel)",
    );
    assert.equal(refusal({ "a-b": { "0": () => 0 } }), 'cannot serialize value["a-b"]["0"]: a function');
  });

  test("built-ins that cannot travel", () => {
    assert.equal(refusal({ w: new WeakMap() }), "cannot serialize value.w: a WeakMap");
    assert.equal(refusal([new WeakSet()]), "cannot serialize value[0]: a WeakSet");
    assert.equal(refusal(new WeakRef({})), "cannot serialize value: a WeakRef");
    assert.equal(refusal({ p: Promise.resolve(1) }), "cannot serialize value.p: a Promise (await it and send the result)");
    assert.equal(refusal(new String("s")), "cannot serialize value: a String object (send the primitive string)");
    assert.equal(
      refusal(new SharedArrayBuffer(8)),
      "cannot serialize value: a SharedArrayBuffer (shared memory cannot cross processes)",
    );
    assert.equal(
      refusal({ v: new Int32Array(new SharedArrayBuffer(8)) }),
      "cannot serialize value.v: a view of a SharedArrayBuffer (shared memory cannot cross processes)",
    );
    class MyMap extends Map {}
    assert.equal(
      refusal(new MyMap()),
      "cannot serialize value: an instance of class MyMap (a subclass of Map; only Map itself travels)",
    );
    function* gen() {}
    assert.equal(refusal(gen()), "cannot serialize value: a generator object");
  });

  test("paths through Maps, Sets, errors and shared data", () => {
    assert.equal(refusal(new Map([["k", () => 1]])), 'cannot serialize value.get("k"): a function');
    assert.equal(refusal(new Map([[Symbol.iterator, 1]])), "cannot serialize value.keys()[0]: a symbol");
    assert.equal(refusal(new Set([1, () => 1])), "cannot serialize value.values()[1]: a function");
    const err = Object.assign(new Error("e", { cause: { fn: () => 1 } }), {});
    assert.equal(refusal(err), "cannot serialize value.cause.fn: a function");
    const withField = Object.assign(new Error("e"), { code: Symbol("c") });
    assert.equal(refusal(withField), "cannot serialize value.code: a symbol");
    const shared = { ok: 1 };
    assert.equal(refusal([shared, shared, { bad: new Point(1) }]).startsWith("cannot serialize value[2].bad: an instance of class Point"), true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    cyclic.fn = () => 1;
    assert.equal(refusal(cyclic), "cannot serialize value.fn: a function");
  });

  test("a getter that throws", () => {
    const v = { get bad() {
      throw new Error("nope");
    } };
    assert.equal(refusal({ v }), "cannot serialize value.v.bad: reading it threw Error: nope");
  });

  test("data nested too deeply", () => {
    const nest = (depth: number, make: (inner: unknown) => unknown): unknown => {
      let v: unknown = 0;
      for (let i = 0; i < depth; i++) v = make(v);
      return v;
    };
    // Walks down a nested value without recursion (assert.deepEqual would overflow the stack).
    const depthOf = (v: unknown, step: (x: unknown) => unknown): number => {
      let d = 0;
      while (v !== 0) {
        v = step(v);
        d++;
      }
      return d;
    };
    // 1000 levels travel, arrays, records and Maps alike; more is refused up front.
    const kinds: [(x: unknown) => unknown, (x: unknown) => unknown][] = [
      [(x) => [x], (x) => (x as unknown[])[0]],
      [(x) => ({ child: x }), (x) => (x as { child: unknown }).child],
      [(x) => new Map([["m", x]]), (x) => (x as Map<string, unknown>).get("m")],
    ];
    for (const [make, step] of kinds) {
      assert.equal(depthOf(roundTrip(nest(1000, make)), step), 1000);
      assert.equal(refusal(nest(1001, make)), "cannot serialize value: it is nested more than 1000 levels deep");
    }
    assert.equal(refusal(nest(200_000, (x) => [x]), "args"), "cannot serialize args: it is nested more than 1000 levels deep");
    // The codec still works afterwards.
    assert.deepEqual(roundTrip({ a: [1] }), { a: [1] });
  });

  test("nothing is half-written: the codec works after a refusal", () => {
    refusal({ a: [1, 2, { f: () => 1 }] });
    assert.deepEqual(roundTrip({ a: [1, 2, { f: 1 }] }), { a: [1, 2, { f: 1 }] });
  });

  test("bad arguments are TypeErrors", () => {
    assert.throws(() => encode(1, { path: 5 as unknown as string }), TypeError);
    assert.throws(() => decode("abc" as unknown as Uint8Array), TypeError);
    assert.throws(() => decode(null as unknown as Uint8Array), TypeError);
  });
});

describe("codec: re-entrancy", () => {
  test("a getter that encodes while the outer value is being encoded", () => {
    const inner = { row: { id: 1, name: "inner" } };
    const outer = {
      rows: [{ id: 1, name: "a" }],
      get nested() {
        return encode([inner, { id: 2, name: "b" }]);
      },
      more: [{ id: 3, name: "c" }, { id: 4, name: "d" }],
    };
    const back = roundTrip(outer) as { rows: unknown[]; nested: Uint8Array; more: unknown[] };
    assert.deepEqual(back.rows, [{ id: 1, name: "a" }]);
    assert.deepEqual(back.more, [{ id: 3, name: "c" }, { id: 4, name: "d" }]);
    assert.deepEqual(decode(back.nested), [inner, { id: 2, name: "b" }]);
    assert.deepEqual(roundTrip([{ id: 5, name: "e" }]), [{ id: 5, name: "e" }]);
  });
});

describe("codec: garbage and truncated input", () => {
  test("anything that is not a skypool message is refused", () => {
    assert.match(decodeError(new Uint8Array(0)).message, /no bytes/);
    assert.match(decodeError(Uint8Array.of(0x01)).message, /not a skypool message/);
    assert.match(decodeError(new TextEncoder().encode('{"json":true}')).message, /not a skypool message/);
  });

  test("every strict prefix of a message is refused", () => {
    const samples = [
      { a: [1, 2, 3], s: "text".repeat(10), m: new Map([[1, 2]]), d: new Date(1), b: 1n << 80n },
      [new Float64Array([1, 2, 3]), new Error("e", { cause: "c" })],
      (() => {
        const o: Record<string, unknown> = { k: "v" };
        o.self = o;
        return [o, o];
      })(),
      Array.from({ length: 20 }, (_, i) => ({ id: i, name: `n${i}` })),
    ];
    for (const v of samples) {
      const bytes = encode(v);
      for (let n = 0; n < bytes.length; n++) decodeError(bytes.subarray(0, n));
    }
  });

  test("trailing bytes are refused", () => {
    const bytes = encode({ a: 1 });
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    decodeError(longer);
  });

  test("random bytes after a valid header never throw anything but SerializationError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
        const bytes = new Uint8Array(3 + tail.length);
        bytes.set(encode(null).subarray(0, 3));
        bytes.set(tail, 3);
        try {
          decode(bytes);
        } catch (err) {
          assert.ok(err instanceof SerializationError, `unexpected ${(err as Error)?.stack ?? err}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("flipped bytes in real messages never throw anything but SerializationError", () => {
    const base = encode([{ id: 1, tags: new Set(["a"]), when: new Date(0) }, new Error("x"), 5n, new Float32Array(3)]);
    fc.assert(
      fc.property(fc.nat({ max: base.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const bytes = base.slice();
        bytes[i] ^= x;
        try {
          decode(bytes);
        } catch (err) {
          assert.ok(err instanceof SerializationError, `unexpected ${(err as Error)?.stack ?? err}`);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("codec: property-based round trips", () => {
  const oddUnits = fc.constantFrom("\ud800", "\udbff", "\udc00", "\udfff", "\ufeff");
  const anyString = fc.oneof(
    fc.string({ unit: fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), oddUnits) }),
    fc.string({ unit: fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), oddUnits), minLength: 20, maxLength: 80 }),
  );
  const key = fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "0", "1", "length", "toString"));
  const errorClasses = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];

  const { value } = fc.letrec<{ value: unknown; leaf: unknown; container: unknown }>((tie) => ({
    value: fc.oneof({ depthSize: "small", withCrossShrink: true }, tie("leaf"), tie("container")),
    leaf: fc.oneof(
      fc.constant(null),
      fc.constant(undefined),
      fc.boolean(),
      fc.double(),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.bigInt(),
      anyString,
      fc.date({ noInvalidDate: false }),
      fc.constantFrom(/a+b/g, /x/imsu, new RegExp("[\\d]", "y")),
      fc.float64Array({ maxLength: 8 }),
      fc.float32Array({ maxLength: 8 }),
      fc.int8Array({ maxLength: 8 }),
      fc.uint16Array({ maxLength: 8 }),
      fc.int32Array({ maxLength: 8 }),
      fc.bigInt64Array({ maxLength: 4 }),
      fc.bigUint64Array({ maxLength: 4 }),
      fc.uint8Array({ maxLength: 8 }).map((u) => u.buffer),
    ),
    container: fc.oneof(
      fc.array(tie("value"), { maxLength: 5 }),
      fc.dictionary(key, tie("value"), { maxKeys: 5 }),
      fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 4 }).map((e) => new Map(e)),
      fc.array(tie("value"), { maxLength: 4 }).map((a) => new Set(a)),
      fc.record({
        cls: fc.constantFrom(...errorClasses),
        message: anyString,
        cause: fc.option(tie("value"), { nil: undefined }),
        code: fc.option(fc.oneof(fc.integer(), fc.string()), { nil: undefined }),
      }).map(({ cls, message, cause, code }) => {
        const e = cause === undefined ? new cls(message) : new cls(message, { cause });
        if (code !== undefined) (e as Error & { code?: unknown }).code = code;
        return e;
      }),
    ),
  }));

  test("any supported value", () => {
    fc.assert(fc.property(value, (v) => assertSameGraph(roundTrip(v), v)), { numRuns: 400 });
  });

  test("any supported value with shared references and cycles added", () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const box: Record<string, unknown> = { a, b };
        box.self = box;
        const list: unknown[] = [a, box, a, b];
        list.push(list);
        const map = new Map<unknown, unknown>([["list", list], [box, a]]);
        map.set("map", map);
        const root = { box, list, map, again: [box, list, map] };
        assertSameGraph(roundTrip(root), root);
      }),
      { numRuns: 200 },
    );
  });

  test("arrays of records mixing shapes", () => {
    const row = fc.record({ id: fc.integer(), name: anyString, score: fc.double(), tags: fc.array(fc.string(), { maxLength: 3 }) }, {
      requiredKeys: ["id"],
    });
    fc.assert(fc.property(fc.array(row, { maxLength: 30 }), (rows) => assertSameGraph(roundTrip(rows), rows)), { numRuns: 200 });
  });
});
