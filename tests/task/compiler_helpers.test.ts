// Functions as TypeScript tooling emits them ship and run: the output of
// tsc (ES2016, ES2017, ES2022, helpers inlined) and of esbuild with
// keepNames (through `deno bundle`, which is esbuild) is imported as the
// compiled module it is, with the helpers in its module scope, and each
// function goes through a Pool(1). The helpers esbuild emits only when it
// lowers syntax, and Babel's/SWC's, are checked against native semantics.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "npm:typescript@~5.9.3";
import { Pool } from "../../mod.ts";
import { shipFunction } from "../../src/task/function_ref.ts";
import { compilerHelpers } from "../../src/task/compiler_helpers.ts";
import * as native from "./compiled_functions.ts";
import { denoBinary } from "../helpers/deno_binary.ts";
import { withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };
const fixture = new URL(`./compiled_functions${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
type Fns = typeof native;
const NAMES = Object.keys(native) as (keyof Fns)[];
const ARGS: { [K in keyof Fns]: Parameters<Fns[K]> } = {
  asyncSum: [[1, 2, 3]],
  restAndSpread: [{ a: 1, b: 2, c: 3 }, 7, 8],
  evens: [4],
  namedInner: [[1, 2]],
  collect: [[5, 6]],
  counter: [3],
};

let dir: string;
let pool: Pool;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "skypool-compiled-"));
  pool = new Pool(1);
});
after(async () => {
  await withTimeout(pool.terminate(), 15_000, "pool.terminate()");
  rmSync(dir, { recursive: true, force: true });
});

/** Imports `code` as the module file a build step would have written. */
async function importEmitted(name: string, code: string): Promise<Fns> {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, code);
  return await import(pathToFileURL(file).href) as Fns;
}

/** Ships every function of `compiled` through the pool and compares with running the original here. */
async function assertShipsLikeNative(compiled: Fns): Promise<Set<string>> {
  const helpers = new Set<string>();
  for (const name of NAMES) {
    const fn = compiled[name] as (...a: unknown[]) => unknown;
    for (const h of (shipFunction(fn) as { helpers?: string[] }).helpers ?? []) helpers.add(h);
    const expected = await (native[name] as (...a: unknown[]) => unknown)(...ARGS[name]);
    assert.deepEqual(await withTimeout(pool.apply(fn, ARGS[name]), 30_000, name), expected, name);
  }
  return helpers;
}

describe("functions compiled by tsc ship and run", () => {
  const source = readFileSync(fixture, "utf8");
  const cases: Array<["ES2016" | "ES2017" | "ES2022", string[]]> = [
    ["ES2016", ["__awaiter", "__rest", "__asyncGenerator", "__asyncValues", "__await", "__classPrivateFieldGet", "__classPrivateFieldSet"]],
    ["ES2017", ["__rest", "__asyncGenerator", "__asyncValues", "__await", "__classPrivateFieldGet", "__classPrivateFieldSet"]],
    ["ES2022", []],
  ];
  for (const [target, expectedHelpers] of cases) {
    test(`target ${target}: async, rest/spread, object spread, generators, async iteration, private fields`, T, async () => {
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { target: ts.ScriptTarget[target], module: ts.ModuleKind.ESNext, importHelpers: false },
      });
      for (const h of expectedHelpers) assert.match(outputText, new RegExp(`^var ${h} = `, "m"), `tsc inlines ${h}`);
      const used = await assertShipsLikeNative(await importEmitted(`tsc-${target}`, outputText));
      assert.deepEqual([...used].sort(), [...expectedHelpers].sort(), "the refs name exactly the helpers the functions call");
    });
  }
});

describe("functions compiled by esbuild with keepNames ship and run", () => {
  const deno = denoBinary();
  // esbuild itself is not installed; `deno bundle` runs it. It has no target option, so it lowers no syntax:
  // its output exercises `__name` only, the helper tsx users meet.
  test("inner named functions and classes (`__name`)", { ...T, skip: deno ? false : "no deno binary to run `deno bundle` (esbuild)" }, async () => {
    const out = join(dir, "esbuild-input.mjs");
    const r = spawnSync(deno![0], [...deno!.slice(1), "bundle", "--keep-names", "--output", out, fixture.pathname], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const code = readFileSync(out, "utf8");
    assert.match(code, /__name\(double, "double"\)/, "esbuild's keepNames names the inner function");
    const used = await assertShipsLikeNative(await importEmitted("esbuild", code));
    assert.deepEqual([...used], ["__name"]);
  });
});

describe("esbuild's lowering helpers and Babel's/SWC's behave as the syntax they replace", () => {
  // deno-lint-ignore no-explicit-any
  type AnyFn = (...a: any[]) => any;
  const sym = Symbol("s");
  const proto = { inherited: 1 };

  test("object spread and rest", async () => {
    const [__spreadValues, __spreadProps, __objRest, _objectSpread2, _object_spread_props, _objectWithoutProperties] =
      await compilerHelpers(["__spreadValues", "__spreadProps", "__objRest", "_objectSpread2", "_object_spread_props", "_objectWithoutProperties"]) as AnyFn[];
    const a = Object.assign(Object.create(proto), { x: 1, [sym]: 2 });
    Object.defineProperty(a, "hidden", { value: 3, enumerable: false });
    const b = { y: 4, x: 5 };
    const spread = { ...a, ...b, z: 6 };
    assert.deepEqual(__spreadProps(__spreadValues(__spreadValues({}, a), b), { z: 6 }), spread);
    assert.deepEqual(_object_spread_props(_objectSpread2({}, a, b), { z: 6 }), spread);
    assert.deepEqual(_objectSpread2({}, null, undefined, a), { ...(null as unknown as object), ...(undefined as unknown as object), ...a });
    const { x, ...rest } = a;
    void x;
    assert.deepEqual(__objRest(a, ["x"]), rest);
    assert.deepEqual(_objectWithoutProperties(a, ["x"]), rest);
    assert.equal(__objRest(a, [sym])[sym], undefined, "an excluded symbol is left out");
  });

  test("async lowered to generators resolves, rejects and awaits in order", async () => {
    const [__async, _asyncToGenerator] = await compilerHelpers(["__async", "_asyncToGenerator"]) as AnyFn[];
    const seen: unknown[] = [];
    const body = function* (this: { k: number }, n: number): Generator<unknown, number, number> {
      seen.push(this.k);
      const v = yield Promise.resolve(n);
      try {
        yield Promise.reject(new Error("inner"));
      } catch (e) {
        seen.push((e as Error).message);
      }
      if (v < 0) throw new RangeError("negative");
      return v * 2;
    };
    assert.equal(await __async({ k: 1 }, [21], body), 42);
    assert.equal(await _asyncToGenerator(body).call({ k: 2 }, 4), 8);
    assert.deepEqual(seen, [1, "inner", 2, "inner"]);
    await assert.rejects(__async({ k: 3 }, [-1], body), RangeError);
    await assert.rejects(_asyncToGenerator(body).call({ k: 4 }, -1), RangeError);
  });

  test("class fields are defined, not assigned, and names kept", async () => {
    const [__publicField, _defineProperty, __name] = await compilerHelpers(["__publicField", "_defineProperty", "__name"]) as AnyFn[];
    let setterRan = false;
    const base = { set f(_v: unknown) { setterRan = true; } };
    const o1 = Object.create(base), o2 = Object.create(base);
    __publicField(o1, "f", 1);
    _defineProperty(o2, { [Symbol.toPrimitive]: () => "f" }, 2);
    assert.equal(setterRan, false, "an inherited setter does not run");
    assert.deepEqual([Object.getOwnPropertyDescriptor(o1, "f")?.value, Object.getOwnPropertyDescriptor(o2, "f")?.value], [1, 2]);
    const anon = [() => 0][0];
    assert.equal(__name(anon, "kept"), anon);
    assert.equal(anon.name, "kept");
  });

  test("an unknown helper name is a TypeError", async () => {
    await assert.rejects(compilerHelpers(["__notAHelper"]), TypeError);
  });
});
