import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ObjectNotFoundError, objects, partitionObjects, Storage } from "../../mod.ts";

const utf8 = new TextEncoder();

/** A web server over fixed files that honours single Range requests (unless `ignoreRange`) and logs what it was asked. */
function serve(files: Record<string, Uint8Array>, ignoreRange = false): Promise<{ server: Server; base: string; log: { method: string; path: string; range?: string }[] }> {
  const log: { method: string; path: string; range?: string }[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    log.push({ method: req.method ?? "", path, range: req.headers.range });
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404).end("not found");
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (m && !ignoreRange) {
      const start = Number(m[1]);
      const end = m[2] === "" ? body.length - 1 : Math.min(Number(m[2]), body.length - 1);
      if (start >= body.length) {
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { "content-range": `bytes ${start}-${end}/${body.length}`, "content-length": end - start + 1, etag: '"v1"' });
      res.end(req.method === "HEAD" ? undefined : body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { "content-length": body.length, etag: '"v1"' });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log }));
  });
}

const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

describe("Storage on http(s):", () => {
  const big = utf8.encode(Array.from({ length: 40_000 }, (_, i) => `line ${i} ${"é".repeat(i % 7)}\n`).join(""));
  let web: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    web = await serve({ "/data/small.txt": utf8.encode("0123456789"), "/data/big.txt": big });
  });
  after(() => close(web.server));

  test("get reads a byte range with a Range request; head gives size and etag", async () => {
    const store = new Storage(`${web.base}/data`);
    web.log.length = 0;
    assert.equal(new TextDecoder().decode(await store.get("small.txt", { start: 2, end: 5 })), "234");
    assert.deepEqual(web.log, [{ method: "GET", path: "/data/small.txt", range: "bytes=2-4" }]);
    assert.equal(new TextDecoder().decode(await store.get("small.txt", { start: 8 })), "89");
    assert.equal((await store.get("small.txt", { start: 50 })).length, 0);
    assert.deepEqual(await store.head("small.txt"), { size: 10, etag: '"v1"' });
    const direct = new Storage(`${web.base}/data/small.txt`);
    assert.equal(direct.objectUrl(""), `${web.base}/data/small.txt`);
    assert.equal((await direct.get("")).length, 10);
  });

  test("a missing URL is an ObjectNotFoundError naming it; writing or listing is refused", async () => {
    const store = new Storage(`${web.base}/data`);
    await assert.rejects(store.get("nope.txt"), (err: unknown) =>
      err instanceof ObjectNotFoundError && err.url === `${web.base}/data/nope.txt` && err.message.includes("HTTP 404"));
    await assert.rejects(store.put("x", "y"), /^TypeError: http\(s\) storage is read-only and cannot put/);
    await assert.rejects(store.delete("x"), /read-only and cannot delete/);
    await assert.rejects(async () => {
      for await (const _ of store.list("")) { /* nothing */ }
    }, /^TypeError: http\(s\) storage cannot list objects/);
  });

  test("partitioning reads only small ranged windows, and each partition reads only its own range", async () => {
    const url = `${web.base}/data/big.txt`;
    web.log.length = 0;
    const parts = [];
    for await (const p of partitionObjects(objects(url), { objChunkNumber: 4 })) parts.push(p);
    assert.equal(parts.length, 4);
    assert.ok(web.log.length > 0);
    for (const r of web.log) {
      if (r.method === "HEAD") continue;
      const m = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? "");
      assert.ok(m, `every GET is ranged, got ${r.range}`);
      assert.ok(Number(m[2]) - Number(m[1]) + 1 <= 64 * 1024, `window ${r.range} is small`);
    }
    web.log.length = 0;
    const texts = await Promise.all(parts.map((p) => p.text()));
    assert.deepEqual(web.log.map((r) => r.range).sort(), parts.map((p) => `bytes=${p.start}-${p.end - 1}`).sort());
    assert.equal(texts.join(""), new TextDecoder().decode(big));
    for (const t of texts.slice(0, -1)) assert.ok(t.endsWith("\n"));
  });

  test("a server that ignores Range still yields exactly the bytes asked for", async () => {
    const plain = await serve({ "/f": utf8.encode("abcdefgh") }, true);
    try {
      assert.equal(new TextDecoder().decode(await new Storage(`${plain.base}/f`).get("", { start: 3, end: 6 })), "def");
    } finally {
      await close(plain.server);
    }
  });
});
