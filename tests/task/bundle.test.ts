import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SerializationError } from "../../src/errors.ts";
import { bundleModule, stopBundler } from "../../src/task/bundle.ts";
import { importBundle } from "../../src/task/bundle_loader.ts";
import { loadFunction } from "../../src/task/function_loader.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const fixture = (name: string) => new URL(`./bundle_fixtures/${name}${ext}`, import.meta.url).href;

describe("bundleModule", () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "skypool-bundle-test-"));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
    await stopBundler();
  });

  it("bundles a module with a relative import and an npm import into one module that runs via importBundle", async () => {
    const { hash, code } = await bundleModule(fixture("entry"));
    assert.equal(hash, createHash("sha256").update(code).digest("hex"));
    assert.doesNotMatch(code, /from\s+["'](?:\.\/greeting|npm:|fflate)/, "relative and npm imports are inlined");
    const mod = await importBundle(hash, code);
    assert.equal((mod.greet as (n: string) => string)("bundle"), "hello, bundle");
  });

  it("leaves external packages as bare imports that resolve on the worker", async () => {
    const { hash, code } = await bundleModule(fixture("with_external"), { external: ["cbor-x"] });
    assert.match(code, /from\s+"cbor-x"/);
    assert.doesNotMatch(code, /npm:cbor-x/);
    const mod = await importBundle(hash, code);
    assert.deepEqual((mod.roundTrip as (v: unknown) => unknown)({ a: [1, "two"] }), { a: [1, "two"] });
    const inlined = await bundleModule(fixture("with_external"), { external: [] });
    assert.notEqual(inlined.hash, hash);
    assert.doesNotMatch(inlined.code, /from\s+"cbor-x"/);
  });

  it("gives the same hash for the same inputs and a new one when an input changes", async () => {
    const dir = await mkdtemp(join(scratch, "change-"));
    await writeFile(join(dir, "dep.ts"), "export const n: number = 1;\n");
    await writeFile(join(dir, "main.ts"), 'import { n } from "./dep.ts";\nexport const get = () => n;\n');
    const url = pathToFileURL(join(dir, "main.ts")).href;
    const first = await bundleModule(url);
    const again = await bundleModule(url);
    assert.equal(again.hash, first.hash);
    assert.equal(again.code, first.code);
    await writeFile(join(dir, "dep.ts"), "export const n: number = 22;\n");
    const changed = await bundleModule(url);
    assert.notEqual(changed.hash, first.hash);
    assert.equal(((await importBundle(changed.hash, changed.code, { dir: join(dir, "out") })).get as () => number)(), 22);
  });

  it("rejects a syntax error at bundle time, naming the module and esbuild's reason", async () => {
    const dir = await mkdtemp(join(scratch, "syntax-"));
    await writeFile(join(dir, "bad.ts"), "export const f = (x => ;\n");
    const url = pathToFileURL(join(dir, "bad.ts")).href;
    await assert.rejects(bundleModule(url), (err: Error) => {
      assert.ok(err instanceof SerializationError, String(err));
      assert.ok(err.message.includes(url), err.message);
      assert.match(err.message, /Unexpected|Expected/);
      assert.match(err.message, /bad\.ts:1:/);
      return true;
    });
  });

  it("rejects a missing import at bundle time", async () => {
    const dir = await mkdtemp(join(scratch, "missing-"));
    await writeFile(join(dir, "main.ts"), 'export { x } from "./nowhere.ts";\n');
    await assert.rejects(bundleModule(pathToFileURL(join(dir, "main.ts")).href), (err: Error) => {
      assert.ok(err instanceof SerializationError);
      assert.match(err.message, /cannot bundle module file:.*main\.ts: Could not resolve "\.\/nowhere\.ts"/);
      return true;
    });
    await writeFile(join(dir, "pkg.ts"), 'import "no-such-package-skypool";\n');
    await assert.rejects(bundleModule(pathToFileURL(join(dir, "pkg.ts")).href), /Could not resolve "no-such-package-skypool"/);
  });

  it("rejects a module that is not a file: URL, and bad external lists", async () => {
    await assert.rejects(bundleModule("https://example.com/mod.ts"), (err: Error) => {
      assert.ok(err instanceof SerializationError);
      assert.match(err.message, /https:\/\/example\.com\/mod\.ts: only file: modules can be bundled/);
      return true;
    });
    await assert.rejects(bundleModule(fixture("entry"), { external: ["./rel"] }), TypeError);
    await assert.rejects(bundleModule(fixture("entry"), { external: "fflate" as unknown as string[] }), TypeError);
  });
});

describe("importBundle", () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "skypool-bundle-load-"));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  const sha = (code: string) => createHash("sha256").update(code).digest("hex");

  it("refuses code that does not match its hash, writing and running nothing", async () => {
    const marker = join(scratch, "ran");
    const good = "export const v = 1;";
    const tampered = `await (await import("node:fs/promises")).writeFile(${JSON.stringify(marker)}, "x"); export const v = 1;`;
    const dir = join(scratch, "refused");
    await assert.rejects(importBundle(sha(good), tampered, { dir }), (err: Error) => {
      assert.ok(err instanceof SerializationError);
      assert.match(err.message, /does not match its hash/);
      return true;
    });
    await assert.rejects(import("node:fs/promises").then((fs) => fs.stat(marker)), { code: "ENOENT" });
    await assert.rejects(import("node:fs/promises").then((fs) => fs.stat(dir)), { code: "ENOENT" });
    await assert.rejects(importBundle("abc", good), TypeError);
  });

  it("imports each hash once", async () => {
    const code = `export const id = Math.random();`;
    const a = await importBundle(sha(code), code, { dir: join(scratch, "once") });
    const b = await importBundle(sha(code), code, { dir: join(scratch, "once") });
    assert.equal(a, b);
  });

  it("says which external package does not resolve", async () => {
    const code = 'import "skypool-no-such-external"; export const v = 1;';
    await assert.rejects(importBundle(sha(code), code, { dir: join(scratch, "ext") }), (err: Error) => {
      assert.ok(err instanceof SerializationError, String(err));
      assert.match(err.message, /imports "skypool-no-such-external", which does not resolve on this worker/);
      return true;
    });
  });

  it("gives loadFunction a bundle's export once the bundle is imported", async () => {
    const code = "export const triple = (x) => 3 * x; export const seven = 7;";
    const hash = sha(code);
    const ref = { kind: "bundle" as const, id: `b:${hash}:triple`, hash, exportName: "triple" };
    await assert.rejects(loadFunction(ref), /has not been imported on this worker/);
    await importBundle(hash, code, { dir: join(scratch, "ref") });
    assert.equal((await loadFunction(ref))(5), 15);
    await assert.rejects(loadFunction({ ...ref, exportName: "seven" }), /is not a function/);
    await assert.rejects(loadFunction({ ...ref, exportName: "nope" }), /no export named "nope"/);
  });
});
