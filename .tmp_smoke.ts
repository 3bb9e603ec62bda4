import { encode, decode } from "./src/task/codec.ts";
const vals: unknown[] = [1, -1, -0, NaN, 2 ** 40, -(2 ** 33), 1.5, "hi", "héllo", "x".repeat(100), "\ud800abc", "é".repeat(100) + "\udc00", true, null, undefined, 5n, -5n, 1n << 100n, -(1n << 100n),
 new Date(1234), new Date(NaN), /a+b/gi, new Map([[1, {a: 1}]]), new Set([1, "a"]), new Float64Array([1, 2, 3]), new Uint8Array(2000).fill(7), new ArrayBuffer(8), new DataView(new ArrayBuffer(4)),
 { a: 1, b: [1, 2, { c: "d" }] }, [{ x: 1, y: 2 }, { x: 3, y: 4 }, { y: 1, x: 2 }], Object.create(null), JSON.parse('{"__proto__": 5, "a": 1}'), new Error("boom", { cause: new TypeError("inner") }), [1, , 3]];
for (const v of vals) {
  const b = encode(v);
  const d = decode(b);
  console.log(Deno.inspect(v, { depth: 4 }).slice(0, 80), "=>", Deno.inspect(d, { depth: 4 }).slice(0, 80), b.length);
}
const a: any = { name: "a" }; a.self = a; const shared = { s: 1 }; const g = decode(encode({ a, list: [shared, shared] })) as any;
console.log(g.a.self === g.a, g.list[0] === g.list[1]);
const m = new Map(); m.set("m", m); const s = new Set(); s.add(s); const e: any = new Error("e"); e.cause = e;
const r = decode(encode([m, s, e])) as any; console.log(r[0].get("m") === r[0], r[1].has(r[1]), r[2].cause === r[2]);
class MyErr extends Error { code = 42 }
const me = decode(encode(new MyErr("mine"))) as any; console.log(me, me.remoteName, me.code);
for (const bad of [{ f: () => 1 }, [1, Symbol("x")], { a: { b: new (class Foo {})() } }, new WeakMap(), Promise.resolve(1)]) {
  try { encode(bad, { path: "args" }); } catch (err) { console.log((err as Error).message); }
}
try { decode(new Uint8Array([1,2,3])) } catch (err) { console.log((err as Error).message); }
const enc = encode({ a: [1, 2, 3], b: "x" }); try { decode(enc.subarray(0, enc.length - 1)) } catch (err) { console.log((err as Error).message); }
