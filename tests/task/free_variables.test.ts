// The free-variable check that decides whether a function's source can be
// shipped: every refusal it can give, and the names it must find wherever
// they hide.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { analyseFunctionSource, checkFunctionSource } from "../../src/task/free_variables.ts";

function refused(source: string): string {
  const verdict = checkFunctionSource(source);
  assert.ok(verdict !== undefined, `accepted: ${source}`);
  return verdict;
}

describe("checkFunctionSource", () => {
  test("a source that is not valid JavaScript is refused with the parser's reason", () => {
    for (const source of ["(x) => {", "function (a, { return a }", "(x) => x +", "@@@"]) {
      assert.match(refused(source), /^its source cannot be parsed as a function expression \(.+\)$/, source);
    }
  });

  test("a source that smuggles a second statement after the function is refused, not run", () => {
    // checkFunctionSource wraps the source in parentheses; a crafted source
    // that closes them and adds a statement must not pass as one function.
    for (const source of ["(x) => x\n); (globalThis.pwned = 1", "function f() {}\n); console.log(1); (0"]) {
      assert.equal(refused(source), "its source is not a single function expression", source);
    }
  });

  test("an expression that is not a function is refused", () => {
    for (const source of ["x + 1", "42", "[1, 2].map", "new Function('return 1')"]) {
      assert.equal(refused(source), "its source is not a function expression", source);
    }
  });

  test("outer names used only inside a nested function, class or default are found", () => {
    const cases: Array<[string, string]> = [
      ["(x) => { const g = () => hiddenA; return g(); }", "hiddenA"],
      ["function (x) { function inner() { return [x].map((y) => y * hiddenB); } return inner(); }", "hiddenB"],
      ["(x) => { class K { m() { return hiddenC; } } return new K().m(); }", "hiddenC"],
      ["(x, y = hiddenD) => x + y", "hiddenD"],
      ["async (x) => { for (const k of [1]) { try { throw k; } catch { return hiddenE; } } }", "hiddenE"],
    ];
    for (const [source, name] of cases) {
      assert.match(refused(source), new RegExp(`it refers to \`${name}\` from an enclosing scope`), source);
    }
  });

  test("names the function binds itself, and globals, are not free", () => {
    for (const source of [
      "(x) => { const g = (y) => y * 2; return g(x); }",
      "function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }",
      "({ a, b: [c] }, ...rest) => a + c + rest.length + Math.PI",
      "async (u) => (await import(u)).default",
    ]) {
      assert.equal(checkFunctionSource(source), undefined, source);
    }
  });

  test("generators, classes, methods and getters are refused with what they are", () => {
    assert.match(refused("function* g() { yield 1; }"), /generator function/);
    assert.match(refused("class A {}"), /it is a class/);
    assert.match(refused("m(x) { return x; }"), /it is a method/);
    assert.match(refused("get size() { return 1; }"), /it is a getter/);
  });

  test("an arrow function's `this` and `import.meta` are refused", () => {
    assert.match(refused("(x) => this.k + x"), /`this` of the enclosing scope/);
    assert.match(refused("(x) => import.meta.url + x"), /`import.meta`/);
    assert.equal(checkFunctionSource("function (x) { return this === undefined ? x : 0; }"), undefined);
  });
});

describe("compiler helpers", () => {
  const helpersOf = (source: string) => {
    const analysis = analyseFunctionSource(source);
    assert.ok("helpers" in analysis, `refused: ${source}: ${"refusal" in analysis ? analysis.refusal : ""}`);
    return analysis.helpers;
  };

  test("helpers that tsc, esbuild and Babel inject are named, not refused", () => {
    assert.deepEqual(helpersOf("function (x) { return __awaiter(this, void 0, void 0, function* () { return x; }); }"), ["__awaiter"]);
    assert.deepEqual(helpersOf("(xs) => { function d(n) { return n * 2; } __name(d, \"d\"); return xs.map(d); }"), ["__name"]);
    assert.deepEqual(helpersOf("(o) => { const _a = o, { a } = _a, rest = __rest(_a, [\"a\"]); return __assign(__assign({}, rest), { a }); }"), ["__assign", "__rest"]);
    assert.deepEqual(helpersOf("function () { return _asyncToGenerator(function* () { return 1; })(); }"), ["_asyncToGenerator"]);
    assert.deepEqual(helpersOf("(x) => x + 1"), []);
  });

  test("a helper's name used otherwise than called, or assigned, is an enclosing binding as before", () => {
    assert.match(refused("(x) => __assign.length + x"), /refers to `__assign` from an enclosing scope/);
    assert.match(refused("(f) => [__name, f].map((g) => g)"), /`__name`/);
    assert.match(refused("(x) => { __awaiter = x; return __awaiter(x); }"), /`__awaiter`/);
    assert.match(refused("(x) => __awaiter(x, factor)"), /refers to `factor` from/, "other free names are still refused");
  });
});

describe("the parser loads on first use", () => {
  test("importing skypool does not load acorn or eslint-scope; the first check does", () => {
    const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
    const mod = new URL(`../../mod${ext}`, import.meta.url).href;
    const fv = new URL(`../../src/task/free_variables${ext}`, import.meta.url).href;
    // The parser is loaded through createRequire, so the CommonJS cache tells what is loaded.
    const script = `
      import { createRequire } from "node:module";
      await import(${JSON.stringify(mod)});
      const { checkFunctionSource } = await import(${JSON.stringify(fv)});
      const loaded = () => Object.keys(createRequire(${JSON.stringify(fv)}).cache).filter((k) => /[\\\\/]node_modules[\\\\/](acorn|eslint-scope)[\\\\/]/.test(k)).length > 0;
      const before = loaded();
      const verdict = checkFunctionSource("(x) => x * outer");
      console.log(JSON.stringify({ before, after: loaded(), verdict: verdict.includes("outer") }));`;
    const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
    const exe = isDeno ? (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath() : process.execPath;
    const args = isDeno ? ["eval", "--no-check", script] : ["--input-type=module", "-e", script];
    const r = spawnSync(exe, args, { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { before: false, after: true, verdict: true });
  });
});
