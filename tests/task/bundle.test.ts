import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { config } from "../../src/config.ts";
import { SerializationError } from "../../src/errors.ts";
import { bundleModule, stopBundler } from "../../src/task/bundle.ts";
import { defaultBundleDir, importBundle, importCachedBundle } from "../../src/task/bundle_loader.ts";
import { loadFunction } from "../../src/task/function_loader.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
/** Where the tests run (the repository root, on both runtimes): its node_modules serves the fixtures. */
const repoRoot = process.cwd();
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

  it("takes the external packages from config bundle.external (SKYPOOL_BUNDLE_EXTERNAL), and never bundles skypool", async () => {
    try {
      config.set({ bundle: { external: ["cbor-x"] } });
      assert.match((await bundleModule(fixture("with_external"))).code, /from\s+"cbor-x"/);
      config.reset();
      process.env.SKYPOOL_BUNDLE_EXTERNAL = "cbor-x, fflate";
      assert.deepEqual(config.get().bundle.external, ["cbor-x", "fflate"]);
      assert.match((await bundleModule(fixture("with_external"))).code, /from\s+"cbor-x"/);
      assert.throws(() => config.set({ bundle: { external: ["./local.ts"] } }), /config\.bundle\.external\[0\] must be a package name/);
    } finally {
      delete process.env.SKYPOOL_BUNDLE_EXTERNAL;
      config.reset();
    }
    const usesSkypool = join(scratch, "uses_skypool.ts");
    await writeFile(usesSkypool, 'import { Lock } from "npm:skypool@^0.1.0";\nexport const hasLock = () => typeof Lock === "function";\n');
    assert.match((await bundleModule(pathToFileURL(usesSkypool).href)).code, /from\s+"skypool"/);
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

  it("finds a bundle written earlier (a restarted worker) by its hash, and not one altered on disk", async () => {
    const dir = join(scratch, "cached");
    const code = "export const fromDisk = () => 'disk';";
    const hash = sha(code);
    assert.equal(await importCachedBundle(hash, { dir }), undefined);
    await mkdir(dir);
    await writeFile(join(dir, `${hash}.mjs`), code);
    const mod = await importCachedBundle(hash, { dir });
    assert.equal((mod?.fromDisk as () => string)(), "disk");
    const other = "export const v = 2;";
    await writeFile(join(dir, `${sha(other)}.mjs`), "export const v = 666;");
    assert.equal(await importCachedBundle(sha(other), { dir }), undefined);
    await assert.rejects(importCachedBundle("nope"), TypeError);
  });

  it("says which external package does not resolve", async () => {
    const code = 'import "skypool-no-such-external"; export const v = 1;';
    await assert.rejects(importBundle(sha(code), code, { dir: join(scratch, "ext") }), (err: Error) => {
      assert.ok(err instanceof SerializationError, String(err));
      assert.match(err.message, /imports "skypool-no-such-external", which does not resolve on this worker/);
      return true;
    });
  });

  it("falls back to a temp folder linked to the worker's node_modules when its own cannot be written", async () => {
    const project = join(scratch, "read-only-project");
    const tmp = join(scratch, "tmp");
    await mkdir(join(project, "node_modules"), { recursive: true });
    await mkdir(tmp);
    await symlink(join(repoRoot, "node_modules", "cbor-x"), join(project, "node_modules", "cbor-x"), "dir");
    // A file where the cache folder would go: it cannot be made (root ignores permissions, not this).
    await writeFile(join(project, "node_modules", ".cache"), "");
    const code = 'import { encode, decode } from "cbor-x"; export const roundTrip = (v) => decode(encode(v));';
    const cwd = process.cwd();
    const savedTmp = process.env.TMPDIR;
    process.chdir(project);
    process.env.TMPDIR = tmp;
    try {
      const dir = await defaultBundleDir();
      assert.ok(dir.startsWith(join(tmp, "skypool-bundles-")), dir);
      const mod = await importBundle(sha(code), code);
      assert.deepEqual((mod.roundTrip as (v: unknown) => unknown)([1, "x"]), [1, "x"]);
      assert.deepEqual((await readdir(dir)).sort(), [`${sha(code)}.mjs`, "node_modules"]);
    } finally {
      process.chdir(cwd);
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
  });

  it("gives loadFunction a bundle's export once the bundle is imported", async () => {
    const code = "export const triple = (x) => 3 * x; export const seven = 7;";
    const hash = sha(code);
    const ref = { kind: "bundle" as const, id: `b:${hash}:triple`, hash, exportName: "triple" };
    await assert.rejects(loadFunction(ref), /is not on this worker: importBundle/);
    await importBundle(hash, code, { dir: join(scratch, "ref") });
    assert.equal((await loadFunction(ref))(5), 15);
    await assert.rejects(loadFunction({ ...ref, exportName: "seven" }), /is not a function/);
    await assert.rejects(loadFunction({ ...ref, exportName: "nope" }), /no export named "nope"/);
  });
});
