import { encode, decode } from "./src/task/codec.ts";
const nest = (depth: number, make: (inner: unknown) => unknown): unknown => { let v: unknown = 0; for (let i = 0; i < depth; i++) v = make(v); return v; };
for (const [name, make] of [["arr", (x: unknown) => [x]], ["obj", (x: unknown) => ({ child: x })], ["map", (x: unknown) => new Map([["m", x]])]] as const) {
  const v = nest(1000, make);
  let b; try { b = encode(v); } catch (e) { console.log(name, "enc", (e as Error).message); continue; }
  try { decode(b); console.log(name, "ok"); } catch (e) { console.log(name, "dec", (e as Error).message); }
}
