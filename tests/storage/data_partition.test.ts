import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Buffer } from "node:buffer";
import { DataPartition, objects, partitionObjects, Pool } from "../../mod.ts";
import { decode, encode } from "../../src/task/codec.ts";

describe("DataPartition", () => {
  let dir: string;
  let url: string;
  let content: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "skypool-partition-"));
    // Over 2 MiB, so stream() and lines() take several 1 MiB reads, with
    // multi-byte characters and \r\n falling on every kind of piece border.
    content = Array.from({ length: 100_000 }, (_, i) => `${i} ${"日本😀".repeat(i % 5)}${i % 3 === 0 ? "\r\n" : "\n"}`).join("");
    const path = join(dir, "data.txt");
    await writeFile(path, content);
    url = pathToFileURL(path).href;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const whole = () => new DataPartition({ url, part: 0, totalParts: 1, start: 0, end: Buffer.byteLength(content) });

  test("text, bytes, stream and lines read the same range", async () => {
    const p = whole();
    assert.ok(p.size > 2 * (1 << 20));
    assert.equal(await p.text(), content);
    assert.equal((await p.bytes()).length, p.size);
    const pieces: Uint8Array[] = [];
    const reader = p.stream().getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) pieces.push(r.value);
    assert.ok(pieces.length >= 3);
    assert.equal(Buffer.concat(pieces).toString("utf8"), content);
    const lines: string[] = [];
    for await (const l of p.lines()) lines.push(l);
    assert.deepEqual(lines, content.split(/\r?\n/).slice(0, -1));
  });

  test("crosses the codec as a record and reads its range on the other side", async () => {
    const p = new DataPartition({ url, part: 1, totalParts: 3, start: 4, end: 9 });
    const back = decode(encode({ p })) as { p: DataPartition };
    assert.ok(back.p instanceof DataPartition);
    assert.deepEqual([back.p.url, back.p.part, back.p.totalParts, back.p.start, back.p.end, back.p.size], [url, 1, 3, 4, 9, 5]);
    assert.equal(await back.p.text(), Buffer.from(content).subarray(4, 9).toString("utf8"));
  });

  test("S3 settings travel with a partition, credentials do not", () => {
    const p = new DataPartition({ url: "s3://b/k", part: 0, totalParts: 1, start: 0, end: 1 }, {
      s3: { endpoint: "http://127.0.0.1:1", forcePathStyle: true, credentials: { accessKeyId: "id", secretAccessKey: "secret" } },
    });
    const record = DataPartition.toRecord(p);
    assert.deepEqual(record[5], { endpoint: "http://127.0.0.1:1", forcePathStyle: true });
    assert.ok(!new TextDecoder().decode(encode(p)).includes("secret"));
  });

  test("bad ranges and malformed records are refused", () => {
    assert.throws(() => new DataPartition({ url, part: 2, totalParts: 2, start: 0, end: 1 }), /^RangeError: DataPartition: part \(2\) must be below totalParts \(2\)$/);
    assert.throws(() => new DataPartition({ url, part: 0, totalParts: 1, start: 5, end: 4 }), /end must be an integer >= 5, got 4/);
    assert.throws(() => new DataPartition({ url: "javascript:alert(1)", part: 0, totalParts: 1, start: 0, end: 0 }), /^TypeError: DataPartition: url must be/);
    assert.throws(() => DataPartition.fromRecord([url, 0, 1]), /malformed data partition record/);
    assert.throws(() => DataPartition.fromRecord([url, 0, 1, 0, 1, "s3"]), /malformed data partition record/);
  });

  test("Pool workers read their partitions themselves", { timeout: 120_000 }, async () => {
    const parts: DataPartition[] = [];
    for await (const p of partitionObjects(objects(url), { objChunkNumber: 6 })) parts.push(p);
    const pool = new Pool(2);
    try {
      const texts = await pool.map((p: DataPartition) => p.text(), parts);
      assert.equal(texts.length, parts.length);
      assert.equal(texts.join(""), content);
    } finally {
      await pool.terminate();
    }
  });
});
