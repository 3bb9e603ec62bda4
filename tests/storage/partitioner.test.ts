import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "npm:fast-check@^4.3.0";
import { checkPartitionOptions, type DataPartition, ObjectNotFoundError, objects, partitionObjects, type PartitionOptions } from "../../mod.ts";

const utf8 = new TextEncoder();

async function collect(urls: string[], options: PartitionOptions): Promise<DataPartition[]> {
  const out: DataPartition[] = [];
  for await (const p of partitionObjects(objects(...urls), options)) out.push(p);
  return out;
}

/** Cover-exactly-once: the parts of one object are consecutive, numbered, and span [0, size). */
function assertCovers(parts: DataPartition[], size: number): void {
  assert.ok(parts.length >= 1);
  let at = 0;
  parts.forEach((p, i) => {
    assert.equal(p.part, i);
    assert.equal(p.totalParts, parts.length);
    assert.equal(p.start, at);
    assert.equal(p.size, p.end - p.start);
    if (size > 0) assert.ok(p.size > 0, `part ${i} is empty`);
    at = p.end;
  });
  assert.equal(at, size);
}

const lineArb = fc.string({ unit: fc.constantFrom("a", "b", " ", "é", "日", "😀", "\r"), maxLength: 12 });
const fileArb = fc.record({
  lines: fc.array(lineArb, { maxLength: 40 }),
  crlf: fc.boolean(),
  trailingNewline: fc.boolean(),
});

function render(f: { lines: string[]; crlf: boolean; trailingNewline: boolean }): string {
  const eol = f.crlf ? "\r\n" : "\n";
  return f.lines.join(eol) + (f.trailingNewline && f.lines.length > 0 ? eol : "");
}

/** Lines as `DataPartition.lines` defines them: terminated by `\n` or `\r\n`, the last one possibly unterminated. */
function expectedLines(content: string): string[] {
  const pieces = content.split("\n");
  const last = pieces.pop()!;
  const lines = pieces.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (last !== "") lines.push(last);
  return lines;
}

describe("partitionObjects over file:", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "skypool-partition-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  let n = 0;
  async function file(content: string | Uint8Array): Promise<string> {
    const path = join(dir, `f${++n}.txt`);
    await writeFile(path, content);
    return path;
  }

  test("newline-aligned parts cover every byte once and hold whole lines (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fileArb, fc.oneof(fc.record({ objChunkSize: fc.integer({ min: 1, max: 80 }) }), fc.record({ objChunkNumber: fc.integer({ min: 1, max: 12 }) })), async (f, cut) => {
        const content = render(f);
        const bytes = utf8.encode(content);
        const parts = await collect([await file(bytes)], cut);
        assertCovers(parts, bytes.length);
        const texts: string[] = [];
        for (const [i, p] of parts.entries()) {
          const b = await p.bytes();
          assert.deepEqual(b, bytes.subarray(p.start, p.end));
          // Whole lines: every part but the last ends a line, so no UTF-8 character is cut either.
          if (i < parts.length - 1) assert.equal(b[b.length - 1], 0x0a);
          texts.push(new TextDecoder("utf-8", { fatal: true }).decode(b));
        }
        assert.equal(texts.join(""), content);
        const lines: string[] = [];
        for (const p of parts) for await (const l of p.lines()) lines.push(l);
        assert.deepEqual(lines, expectedLines(content));
      }),
      { numRuns: 150 },
    );
  });

  test("raw byte ranges (objNewline: null) are exactly objChunkSize long but the last (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 64 }), async (bytes, size) => {
        const parts = await collect([await file(bytes)], { objChunkSize: size, objNewline: null });
        assertCovers(parts, bytes.length);
        parts.slice(0, -1).forEach((p) => assert.equal(p.size, size));
        for (const p of parts) assert.deepEqual(await p.bytes(), bytes.subarray(p.start, p.end));
      }),
      { numRuns: 100 },
    );
  });

  test("an empty object is one empty partition; one smaller than a chunk is one partition", async () => {
    const empty = await collect([await file("")], { objChunkSize: 10 });
    assert.deepEqual(empty.map((p) => [p.part, p.totalParts, p.start, p.end]), [[0, 1, 0, 0]]);
    assert.equal(await empty[0].text(), "");
    const small = await collect([await file("one line\n")], { objChunkSize: 1000 });
    assert.deepEqual(small.map((p) => [p.start, p.end]), [[0, 9]]);
    const whole = await collect([await file("no options\nmeans one part\n")], {});
    assert.equal(whole.length, 1);
  });

  test("objChunkNumber wins over objChunkSize, and a line longer than a chunk is never split", async () => {
    const path = await file("x".repeat(50) + "\nshort\n");
    const byNumber = await collect([path], { objChunkSize: 1, objChunkNumber: 2 });
    // chunk = 29 bytes; the first cut moves past the 51-byte line, so only 2 parts exist.
    assert.deepEqual(byNumber.map((p) => [p.start, p.end]), [[0, 51], [51, 57]]);
  });

  test("a line much longer than the search window still ends its part", async () => {
    const long = "y".repeat(300_000);
    const path = await file(`${long}\nafter\n`);
    const parts = await collect([path], { objChunkSize: 1000 });
    assert.deepEqual(parts.map((p) => [p.start, p.end]), [[0, 300_001], [300_001, 300_007]]);
  });

  test("a folder is partitioned file by file in name order; paths and file: URLs are both accepted", async () => {
    const sub = join(dir, "folder");
    await mkdir(join(sub, "inner"), { recursive: true });
    await writeFile(join(sub, "b.txt"), "b1\nb2\n");
    await writeFile(join(sub, "inner", "a.txt"), "a1\n");
    const parts = await collect([pathToFileURL(sub).href], { objChunkSize: 3 });
    assert.deepEqual(parts.map((p) => [p.url.slice(pathToFileURL(sub).href.length), p.part, p.totalParts]), [
      ["/b.txt", 0, 2],
      ["/b.txt", 1, 2],
      ["/inner/a.txt", 0, 1],
    ]);
    assert.equal((await collect([`${sub}/`], {})).length, 2);
  });

  test("a missing file or an empty folder is an error naming it", async () => {
    const missing = join(dir, "missing.txt");
    await assert.rejects(collect([missing], {}), (err: unknown) =>
      err instanceof ObjectNotFoundError && err.url === pathToFileURL(missing).href && err.message.includes(missing));
    const emptyDir = join(dir, "empty-dir");
    await mkdir(emptyDir);
    await assert.rejects(collect([emptyDir], {}), /no objects under file:/);
  });
});

describe("checkPartitionOptions", () => {
  test("defaults to newline-aligned parts, one per object", () => {
    assert.deepEqual(checkPartitionOptions({}), { newline: 0x0a });
    assert.deepEqual(checkPartitionOptions({ objNewline: null, objChunkSize: 5 }), { chunkSize: 5, newline: null });
  });

  test("bad sizes and newlines are refused naming the option", () => {
    assert.throws(() => checkPartitionOptions({ objChunkSize: 0 }), /^RangeError: objChunkSize must be an integer > 0, got 0$/);
    assert.throws(() => checkPartitionOptions({ objChunkSize: -3 }), RangeError);
    assert.throws(() => checkPartitionOptions({ objChunkSize: 1.5 }), /objChunkSize must be an integer > 0, got 1.5/);
    assert.throws(() => checkPartitionOptions({ objChunkNumber: 0 }), /objChunkNumber/);
    assert.throws(() => checkPartitionOptions({ objChunkSize: "10" as unknown as number }), /^TypeError: objChunkSize must be a number, got string$/);
    assert.throws(() => checkPartitionOptions({ objNewline: "\r\n" }), /^RangeError: objNewline must be one ASCII character/);
    assert.throws(() => checkPartitionOptions({ objNewline: 10 as unknown as string }), TypeError);
  });

  test("partitionObjects checks its input and options at the call, before listing anything", () => {
    assert.throws(() => partitionObjects(["/tmp/x"] as never), /input must come from objects/);
    assert.throws(() => partitionObjects(objects("/definitely/missing"), { objChunkSize: 0 }), RangeError);
  });
});
