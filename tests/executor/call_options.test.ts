// Bad input to the futures API is refused with a clear error before any
// call runs (checked by a side effect: a call would append to a file).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FunctionExecutor, SerializationError } from "../../mod.ts";
import { countCall } from "../helpers/executor_fixtures.ts";
import { makeTempDir, removeDir, sleep, throwingGenerator } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };

describe("FunctionExecutor refuses bad input before any call", () => {
  let dir = "";
  let fexec: FunctionExecutor;
  before(async () => {
    dir = await makeTempDir("skypool-options-");
    fexec = new FunctionExecutor({ transport: "local", workers: 1 });
  });
  after(async () => {
    await fexec[Symbol.asyncDispose]();
    await removeDir(dir);
  });

  const cases: [string, (path: string) => Promise<unknown>, RegExp][] = [
    ["a non-iterable iterdata", () => fexec.map(countCall, 42 as never), /map: iterdata must be an iterable, an async iterable or objects\(\.\.\.urls\), got number/],
    ["a string as iterdata", (p) => fexec.map(countCall, p as never), /iterdata must be an iterable of call inputs, not a string/],
    ["chunksize 0", (p) => fexec.map(countCall, [p], { chunksize: 0 }), /chunksize must be an integer >= 1, got 0/],
    ["a fractional chunksize", (p) => fexec.map(countCall, [p], { chunksize: 1.5 }), /chunksize must be an integer >= 1, got 1.5/],
    ["negative retries", (p) => fexec.callAsync(countCall, p, { retries: -1 }), /retries must be an integer >= 0, got -1/],
    ["a zero timeout", (p) => fexec.callAsync(countCall, p, { timeout: 0 }), /timeout must be > 0 ms, got 0/],
    ["extraArgs that is not an array", (p) => fexec.map(countCall, [p], { extraArgs: "x" as never }), /extraArgs must be an array, got string/],
    ["an extraEnv value that is not a string", (p) => fexec.callAsync(countCall, p, { extraEnv: { A: 1 as never } }), /extraEnv.A must be a string, got number/],
    ["objChunkSize 0", (p) => fexec.map(countCall, [p], { objChunkSize: 0 }), /objChunkSize must be an integer > 0, got 0/],
    ["an unknown option", (p) => fexec.map(countCall, [p], { chunkSize: 2 } as never), /unknown option "chunkSize"/],
    ["a function that is not one", (p) => fexec.map(42 as never, [p]), /the function must be a function or task\(url, name\), got number/],
    ["a reducer that is not a function", (p) => fexec.mapReduce(countCall, [p], null as never), /mapReduce reducer: the function must be a function/],
  ];
  for (const [what, call, message] of cases) {
    test(`${what}`, T, async () => {
      const path = join(dir, what.replace(/\W+/g, "-"));
      await assert.rejects(call(path), (err: Error) => (err instanceof TypeError || err instanceof RangeError) && message.test(err.message));
      await sleep(50);
      assert.equal(existsSync(path), false, "no call ran");
    });
  }

  test("a function that refers to an outer binding is a SerializationError naming it, before any call", T, async () => {
    const path = join(dir, "closure");
    const outer = 3;
    await assert.rejects(fexec.map((p: string) => countCall(p + outer), [path]), (err: Error) => err instanceof SerializationError && /outer|countCall/.test(err.message));
    await sleep(50);
    assert.equal(existsSync(path), false);
  });

  test("an input that throws part-way fails the map before any call", T, async () => {
    const path = join(dir, "generator");
    const items = (function* () {
      for (const n of throwingGenerator(5, 3)) yield `${path}-${n}`;
    })();
    await assert.rejects(fexec.map(countCall, items), Error);
    await sleep(50);
    for (let n = 0; n < 5; n++) assert.equal(existsSync(`${path}-${n}`), false);
  });

  test("bad executor options are TypeError/RangeError naming them", () => {
    assert.throws(() => new FunctionExecutor({ workers: 0 }), { name: "RangeError", message: /workers must be an integer >= 1, got 0/ });
    assert.throws(() => new FunctionExecutor({ workers: "2" as never }), { name: "TypeError", message: /workers must be an integer >= 1/ });
    assert.throws(() => new FunctionExecutor({ transport: "carrier-pigeon" as never }), { name: "RangeError", message: /^FunctionExecutor transport must be .* got "carrier-pigeon"$/ });
    assert.throws(() => new FunctionExecutor({ transport: { kind: "remote", name: "half", size: 1 } as never }), { name: "TypeError", message: /^FunctionExecutor transport\.start must be a function, got undefined$/ });
    assert.throws(() => new FunctionExecutor({ config: { retries: -2 } }), { name: "RangeError", message: /config.retries must be an integer >= 0, got -2/ });
    assert.throws(() => new FunctionExecutor({ speed: 11 } as never), { name: "TypeError", message: /unknown option "speed"/ });
  });
});
