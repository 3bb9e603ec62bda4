import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { objects, ObjectNotFoundError, partitionObjects, Storage } from "../../mod.ts";
import { startS3Server, type TestS3Server } from "../helpers/s3_server.ts";

const utf8 = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("Storage on s3: (against s3rver)", () => {
  let s3: TestS3Server;
  before(async () => {
    s3 = await startS3Server(["data", "many"]);
  });
  after(() => s3?.stop());

  test("put, get with a byte range, head and delete round-trip", async () => {
    const store = new Storage("s3://data/run1", { s3: s3.options });
    await store.put("a/b.txt", utf8.encode("hello, s3 world"));
    assert.equal(text(await store.get("a/b.txt")), "hello, s3 world");
    assert.equal(text(await store.get("a/b.txt", { start: 7, end: 9 })), "s3");
    assert.equal(text(await store.get("a/b.txt", { start: 10 })), "world");
    assert.equal((await store.get("a/b.txt", { start: 4, end: 4 })).length, 0);
    const info = await store.head("a/b.txt");
    assert.equal(info.size, 15);
    assert.ok(info.etag.length > 0);
    assert.equal(store.objectUrl("a/b.txt"), "s3://data/run1/a/b.txt");
    await store.close();
    assert.equal((await store.head("a/b.txt")).size, 15, "a closed store reconnects on its next call");
    await store.delete("a/b.txt");
    await assert.rejects(store.head("a/b.txt"), ObjectNotFoundError);
  });

  test("list follows pages past 1000 keys and strips the storage prefix", async () => {
    const store = new Storage("s3://many/p", { s3: s3.options });
    const keys = Array.from({ length: 1005 }, (_, i) => `k/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, "x")));
    }
    await store.put("other", "y");
    const listed: string[] = [];
    for await (const e of store.list("k/")) {
      assert.equal(e.size, 1);
      listed.push(e.key);
    }
    assert.deepEqual(listed, keys);
    await store.delete(...keys, "other");
    const left: string[] = [];
    for await (const e of store.list()) left.push(e.key);
    assert.deepEqual(left, []);
  });

  test("a missing object and a missing bucket are errors naming the URL", async () => {
    const store = new Storage("s3://data", { s3: s3.options });
    await assert.rejects(store.get("nope.txt"), (err: unknown) =>
      err instanceof ObjectNotFoundError && err.url === "s3://data/nope.txt" && err.message.includes("s3://data/nope.txt"));
    const gone = new Storage("s3://no-such-bucket", { s3: s3.options });
    await assert.rejects(gone.head("x"), (err: unknown) =>
      err instanceof ObjectNotFoundError && err.url === "s3://no-such-bucket" && /bucket does not exist/.test(err.message));
    await assert.rejects(gone.put("x", "y"), (err: unknown) =>
      err instanceof ObjectNotFoundError && /bucket does not exist: s3:\/\/no-such-bucket/.test(err.message));
  });

  test("a prefix is partitioned object by object, newline-aligned", async () => {
    const store = new Storage("s3://data", { s3: s3.options });
    await store.put("logs/1.txt", "a1\na2\na3\n");
    await store.put("logs/2.txt", "b1\nb2\n");
    const got: string[][] = [];
    for await (const p of partitionObjects(objects("s3://data/logs/"), { objChunkSize: 4, s3: s3.options })) {
      assert.match(p.url, /^s3:\/\/data\/logs\/[12]\.txt$/);
      const lines: string[] = [];
      for await (const l of p.lines()) lines.push(l);
      got.push(lines);
    }
    assert.deepEqual(got, [["a1", "a2"], ["a3"], ["b1", "b2"]]);
    await assert.rejects(async () => {
      for await (const _ of partitionObjects(objects("s3://data/empty-prefix/"), { s3: s3.options }));
    }, (err: unknown) => err instanceof ObjectNotFoundError && err.message === "no objects under s3://data/empty-prefix/");
  });
});
