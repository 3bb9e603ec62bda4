import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isObjectsInput, objects } from "../../mod.ts";

test("objects keeps URLs and turns paths into absolute file: URLs", () => {
  const input = objects("s3://bucket/prefix/", "https://example.com/a.csv", "file:///data/x.txt", "rel/file.txt", "rel/dir/");
  assert.ok(isObjectsInput(input));
  assert.deepEqual(input.urls, [
    "s3://bucket/prefix/",
    "https://example.com/a.csv",
    "file:///data/x.txt",
    pathToFileURL(resolve("rel/file.txt")).href,
    `${pathToFileURL(resolve("rel/dir")).href}/`,
  ]);
  assert.ok(Object.isFrozen(input.urls));
});

test("isObjectsInput is false for anything objects() did not make", () => {
  assert.equal(isObjectsInput(["s3://b/k"]), false);
  assert.equal(isObjectsInput({ urls: ["s3://b/k"] }), false);
  assert.equal(isObjectsInput(null), false);
});

test("objects refuses no URLs, non-strings and unknown schemes, naming the argument", () => {
  assert.throws(() => objects(), /^TypeError: objects: expected at least one URL or path$/);
  assert.throws(() => objects("s3://b/k", 5 as unknown as string), /^TypeError: objects: argument 1 must be a URL or path string, got number$/);
  assert.throws(() => objects(""), /argument 0 is an empty string/);
  assert.throws(() => objects("gs://bucket/key"), /^TypeError: objects: unsupported URL scheme in "gs:\/\/bucket\/key"/);
});
