// The one-shot script of `npm run bench -- startup`, as a new user writes it:
// import, a pool of 2, one map of 10 000 items, terminate. bench/startup.ts
// times it as a whole process. With `--maps=N` it waits for the pool to answer
// once, then maps N times, and prints those milliseconds (`@@maps [ready,
// map 1, …]`), for the first-map cost.
import process from "node:process";
import { pathToFileURL } from "node:url";

// SKYPOOL_ENTRY: another entry to time (bench/startup.ts points Node at the
// npm package as published, which is bundled).
const entry = process.env.SKYPOOL_ENTRY;
const { Pool } = entry ? await import(pathToFileURL(entry).href) as typeof import("../mod.ts") : await import("../mod.ts");

const items = Array.from({ length: 10_000 }, (_, i) => i);
const mapsArg = process.argv.find((a) => a.startsWith("--maps="));
const pool = new Pool(2);
if (mapsArg === undefined) {
  await pool.map((x: number) => x * x, items);
} else {
  // The first figure: until the pool has answered once (the workers are up).
  const t0 = performance.now();
  await pool.apply(Math.abs, [0]);
  const ms: number[] = [performance.now() - t0];
  for (let i = 0; i < Number(mapsArg.slice(7)); i++) {
    const t0 = performance.now();
    await pool.map((x: number) => x * x, items);
    ms.push(performance.now() - t0);
  }
  console.log(`@@maps ${JSON.stringify(ms)}`);
}
await pool.terminate();
