// map/mapReduce over objects(...): each call gets one DataPartition of a
// file: object and reads it in the worker; a word count by mapReduce
// equals the count made directly, over one reducer or one per object.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type DataPartition, FunctionExecutor, ObjectNotFoundError, objects, type ResponseFuture } from "../../mod.ts";
import { makeTempDir, removeDir, sleep, withTimeout } from "../helpers/pool_fixtures.ts";

const T = { timeout: 120_000 };

type Counts = Record<string, number>;

// Self-contained (they ship by source): count the words of one partition, merge counts.
const countText = async (p: DataPartition): Promise<Record<string, number>> => {
  const counts: Record<string, number> = {};
  for (const w of (await p.text()).split(/\s+/)) if (w !== "") counts[w] = (counts[w] ?? 0) + 1;
  return counts;
};
const merge = (all: Record<string, number>[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const counts of all) for (const [w, n] of Object.entries(counts)) out[w] = (out[w] ?? 0) + n;
  return out;
};

function directCount(...texts: string[]): Counts {
  const counts: Counts = {};
  for (const text of texts) for (const w of text.split(/\s+/)) if (w !== "") counts[w] = (counts[w] ?? 0) + 1;
  return counts;
}

/** Sorted entries, so that two counts compare whatever order their keys arrived in. */
const sorted = (c: Counts) => Object.entries(c).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

// Lines of a few words each from a small vocabulary (with multi-byte
// UTF-8), from a seeded generator: the same files every run.
function text(seed: number, lines: number, eol: string, trailing: boolean): string {
  const vocab = ["alpha", "beta", "gamma", "délta", "ε", "日本語", "zeta", "eta"];
  let s = seed;
  const next = (n: number) => (s = (s * 1103515245 + 12345) % 2 ** 31) % n;
  const out = Array.from({ length: lines }, () => Array.from({ length: 1 + next(7) }, () => vocab[next(vocab.length)]).join(" "));
  return out.join(eol) + (trailing ? eol : "");
}

for (const transport of ["inline", "local"] as const) {
  describe(`FunctionExecutor over objects(...) on ${transport}`, () => {
    let dir = "";
    let files: string[] = [];
    let contents: string[] = [];
    let fexec: FunctionExecutor;
    before(async () => {
      dir = await makeTempDir("skypool-objects-");
      contents = [text(1, 400, "\n", true), text(2, 250, "\r\n", true), text(3, 120, "\n", false), ""];
      files = contents.map((_, i) => join(dir, `part-${i}.txt`));
      await Promise.all(files.map((f, i) => writeFile(f, contents[i])));
      fexec = new FunctionExecutor({ transport, workers: 2 });
    });
    after(async () => {
      await fexec[Symbol.asyncDispose]();
      await removeDir(dir);
    });

    test("map gives each call one DataPartition; together they hold every line of every object once", T, async () => {
      const fs = await fexec.map(async (p: DataPartition) => [p.url, p.part, p.totalParts, await p.text()], objects(...files), { objChunkSize: 500 });
      const parts = await withTimeout(fexec.getResult(fs), 60_000, "map") as [string, number, number, string][];
      assert.ok(parts.length > files.length, "objects larger than a chunk were cut");
      for (let i = 0; i < files.length; i++) {
        const mine = parts.filter(([url]) => url.endsWith(`/part-${i}.txt`));
        assert.deepEqual(mine.map(([, part]) => part), mine.map((_, k) => k), "the partitions of an object come in order");
        assert.ok(mine.every(([, , total]) => total === mine.length));
        assert.equal(mine.map(([, , , t]) => t).join(""), contents[i], "the partitions cover the object exactly once");
        for (const [, , , t] of mine.slice(0, -1)) assert.ok(t.endsWith("\n"), "each cut is just after a newline");
      }
    });

    test("a word count by mapReduce equals the count made directly", T, async () => {
      const fs = await fexec.mapReduce(countText, objects(...files), merge, { objChunkNumber: 8 });
      const reducer = fs[fs.length - 1] as ResponseFuture<Counts>;
      assert.deepEqual(sorted(await withTimeout(fexec.getResult(reducer), 60_000, "mapReduce") as Counts), sorted(directCount(...contents)));
    });

    test("with objReduceByKey one reducer per object counts that object, after its map calls", T, async () => {
      const tagged = async (p: DataPartition) => {
        const counts: Record<string, number> = {};
        for await (const line of p.lines()) for (const w of line.split(/\s+/)) if (w !== "") counts[w] = (counts[w] ?? 0) + 1;
        return { url: p.url, counts };
      };
      const mergeTagged = (all: { url: string; counts: Record<string, number> }[]) => {
        const out: Record<string, number> = {};
        for (const { counts } of all) for (const [w, n] of Object.entries(counts)) out[w] = (out[w] ?? 0) + n;
        return { urls: [...new Set(all.map((x) => x.url))], counts: out };
      };
      const fs = await fexec.mapReduce(tagged, objects(...files), mergeTagged, { objChunkSize: 300, objReduceByKey: true });
      const maps = fs.slice(0, fs.length - files.length);
      const reducers = fs.slice(fs.length - files.length);
      const reduced = await withTimeout(fexec.getResult(reducers), 60_000, "reducers") as { urls: string[]; counts: Counts }[];
      const mapped = await fexec.getResult(maps) as { url: string }[];
      reduced.forEach(({ urls, counts }, i) => {
        assert.equal(urls.length, 1, `reducer ${i} saw one object`);
        assert.ok(urls[0].endsWith(`/part-${i}.txt`), `reducer ${i} is object ${i}'s`);
        assert.deepEqual(sorted(counts), sorted(directCount(contents[i])), `object ${i}`);
        mapped.forEach(({ url }, k) => {
          if (url === urls[0]) assert.ok(maps[k].stats.hostResultTime! <= reducers[i].stats.hostSubmitTime, "the reducer was submitted after its map results");
        });
      });
      assert.ok(maps.length > files.length, "objects larger than a chunk were cut");
    });
  });
}

describe("FunctionExecutor refuses a bad objects(...) input before any call", () => {
  let dir = "";
  let file = "";
  let fexec: FunctionExecutor;
  before(async () => {
    dir = await makeTempDir("skypool-objects-bad-");
    file = join(dir, "data.txt");
    await writeFile(file, "one two\nthree\n");
    fexec = new FunctionExecutor({ transport: "local", workers: 1 });
  });
  after(async () => {
    await fexec[Symbol.asyncDispose]();
    await removeDir(dir);
  });
  // Each call would append to the marker file.
  const mark = async (_p: DataPartition, path: string): Promise<number> => {
    const fs = await import("node:fs");
    fs.appendFileSync(path, "x\n");
    return 1;
  };

  const cases: [string, (marker: string) => Promise<unknown>, (err: Error) => boolean][] = [
    ["a missing object", (m) => fexec.map(mark, objects(file, join(dir, "missing.txt")), { extraArgs: [m] }), (e) => e instanceof ObjectNotFoundError && /missing\.txt/.test(e.message)],
    ["objChunkNumber 0", (m) => fexec.map(mark, objects(file), { extraArgs: [m], objChunkNumber: 0 }), (e) => e instanceof RangeError && /objChunkNumber must be an integer > 0, got 0/.test(e.message)],
    ["an objNewline of two characters", (m) => fexec.mapReduce(mark, objects(file), (ns: number[]) => ns.length, { extraArgs: [m], objNewline: "ab" }), (e) => e instanceof RangeError && /objNewline must be one ASCII character/.test(e.message)],
  ];
  for (const [what, call, check] of cases) {
    test(what, T, async () => {
      const marker = join(dir, what.replace(/\W+/g, "-"));
      await assert.rejects(call(marker), check);
      await sleep(50);
      assert.equal(existsSync(marker), false, "no call ran");
      assert.equal(fexec.jobSummary().calls, 0, "no future was made");
    });
  }

  test("an unknown URL scheme is refused by objects() itself, naming the URL", () => {
    assert.throws(() => objects("ftp://host/data.txt"), (e: Error) => e instanceof TypeError && /unsupported URL scheme in "ftp:\/\/host\/data.txt"/.test(e.message));
  });
});
