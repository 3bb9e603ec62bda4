// FunctionExecutor, Lithops' futures API: callAsync, map over a file cut
// into partitions, getResult, and SVG plots of the calls.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DataPartition, FunctionExecutor, objects } from "../mod.ts";

await using fexec = new FunctionExecutor({ workers: 2 });

// callAsync: one call, one future.
const future = await fexec.callAsync((x: number) => x * 2, 21);
console.log(await fexec.getResult(future)); // 42

// map over objects(file): each call receives one DataPartition of whole
// lines and reads only its byte range, in the worker.
const dir = await mkdtemp(join(tmpdir(), "futures-"));
const file = join(dir, "words.txt");
await writeFile(file, "the quick brown fox\njumps over\nthe lazy dog\n".repeat(1000));
const futures = await fexec.map(async (part: DataPartition) => {
  let words = 0;
  for await (const line of part.lines()) words += line.split(" ").length;
  return words;
}, objects(file), { objChunkNumber: 4 });
const counts = await fexec.getResult(futures) as number[];
console.log(counts.length, "partitions,", counts.reduce((a, b) => a + b, 0), "words"); // 4 partitions, 9000 words

// plot: a timeline (one bar per call) and a histogram of call durations.
const [timeline, histogram] = await fexec.plot(futures, join(dir, "wordcount"));
console.log(timeline, histogram); // …/futures-…/wordcount_timeline.svg …/futures-…/wordcount_histogram.svg
console.log(fexec.jobSummary().calls, "calls"); // 5 calls
