import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { config, ObjectNotFoundError, Storage } from "../../mod.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("Storage on file:", () => {
  let dir: string;
  let store: Storage;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "skypool-storage-"));
    store = new Storage(pathToFileURL(dir).href);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("put then get returns the bytes, whole or in a [start, end) range", async () => {
    await store.put("x/y/data.bin", new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]));
    assert.deepEqual(await store.get("x/y/data.bin"), new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]));
    assert.deepEqual(await store.get("x/y/data.bin", { start: 2, end: 5 }), new Uint8Array([2, 3, 4]));
    assert.deepEqual(await store.get("x/y/data.bin", { start: 6 }), new Uint8Array([6, 7]));
    assert.deepEqual(await store.get("x/y/data.bin", { start: 6, end: 100 }), new Uint8Array([6, 7]));
    assert.deepEqual(await store.get("x/y/data.bin", { start: 20 }), new Uint8Array(0));
  });

  test("a string is stored as UTF-8 and put replaces what was there", async () => {
    await store.put("s.txt", "first");
    await store.put("s.txt", "naïve");
    assert.equal(text(await store.get("s.txt")), "naïve");
    assert.equal((await store.head("s.txt")).size, 6);
  });

  test("head gives the size and an etag that changes with the content", async () => {
    await store.put("h.txt", "abc");
    const before = await store.head("h.txt");
    await new Promise((r) => setTimeout(r, 5));
    await store.put("h.txt", "abcd");
    const after = await store.head("h.txt");
    assert.equal(before.size, 3);
    assert.equal(after.size, 4);
    assert.notEqual(before.etag, after.etag);
  });

  test("list yields the keys under a prefix in key order, recursing into folders", async () => {
    await store.put("l/b", "1");
    await store.put("l/a/z", "22");
    await store.put("l/a/y", "333");
    await store.put("la", "4");
    const all: [string, number][] = [];
    for await (const e of store.list("l/")) all.push([e.key, e.size]);
    assert.deepEqual(all, [["l/a/y", 3], ["l/a/z", 2], ["l/b", 1]]);
    const byName: string[] = [];
    for await (const e of store.list("l")) byName.push(e.key);
    assert.deepEqual(byName, ["l/a/y", "l/a/z", "l/b", "la"]);
  });

  test("delete removes keys, ignores missing ones, and leaves no temp files behind", async () => {
    await store.put("d/1", "x");
    await store.put("d/2", "x");
    await store.delete("d/1", "d/2", "d/never");
    const left: string[] = [];
    for await (const e of store.list("d/")) left.push(e.key);
    assert.deepEqual(left, []);
    assert.deepEqual(await readdir(join(dir, "d")), []);
  });

  test("a missing file is an ObjectNotFoundError naming its URL", async () => {
    const url = pathToFileURL(join(dir, "missing.txt")).href;
    await assert.rejects(store.get("missing.txt"), (err: unknown) => err instanceof ObjectNotFoundError && err.url === url && err.message.includes(url));
    await assert.rejects(store.head("missing.txt"), ObjectNotFoundError);
    await assert.rejects(store.head("x"), ObjectNotFoundError, "a folder is not an object");
  });

  test("bad keys, data and ranges are refused at the call", async () => {
    await assert.rejects(store.put("../escape", "x"), /key "..\/escape" must be a relative path/);
    await assert.rejects(store.put("/abs", "x"), RangeError);
    await assert.rejects(store.get(""), /^RangeError: Storage.get: key must not be empty$/);
    await assert.rejects(store.get(42 as unknown as string), /^TypeError: Storage.get: key must be a string, got number$/);
    await assert.rejects(store.put("k", 42 as unknown as string), /data must be a Uint8Array or string/);
    await assert.rejects(store.get("s.txt", { start: -1 }), /start must be an integer >= 0, got -1/);
    await assert.rejects(store.get("s.txt", { start: 3, end: 2 }), /^RangeError: Storage.get: end \(2\) is before start \(3\)$/);
  });
});

describe("Storage URLs", () => {
  test("the default is a skypool folder in the temp dir, or config storage.url", () => {
    assert.equal(new Storage().url, pathToFileURL(join(tmpdir(), "skypool")).href);
    config.set({ storage: { url: "s3://configured-bucket/p" } });
    try {
      assert.equal(new Storage().url, "s3://configured-bucket/p");
      assert.equal(new Storage().objectUrl("k"), "s3://configured-bucket/p/k");
    } finally {
      config.reset();
    }
  });

  test("SKYPOOL_STORAGE sets the default URL from the environment", () => {
    process.env.SKYPOOL_STORAGE = "s3://env-bucket";
    config.reset();
    try {
      assert.equal(new Storage().url, "s3://env-bucket");
    } finally {
      delete process.env.SKYPOOL_STORAGE;
      config.reset();
    }
  });

  test("an unknown scheme or an s3 URL without bucket is a TypeError naming it", () => {
    assert.throws(() => new Storage("ftp://host/dir"), /^TypeError: unsupported storage URL "ftp:\/\/host\/dir": expected file:\/\/, s3:\/\/ or http\(s\):\/\/$/);
    assert.throws(() => new Storage("s3://"), /names no bucket/);
    assert.throws(() => config.set({ storage: { s3: "x" as never } }), /storage.s3 must be an object/);
    assert.throws(() => config.set({ storage: "s3://b" as never }), /^TypeError: config\.storage must be a plain object of settings, got "s3:\/\/b"/);
  });
});
