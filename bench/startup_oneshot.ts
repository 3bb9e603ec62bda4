// The one-shot script of `npm run bench -- startup`, as a new user writes it:
// import, a pool of 2, one map of 10 000 items, terminate. bench/startup.ts
// times it as a whole process. With `--maps=N` it waits for the pool to answer
// once, then maps N times, and prints those milliseconds (`@@maps [ready,
// map 1, …]`), for the first-map cost.
//
// It touches nothing of Node's before the import on Deno, as a user's script
// would not: `node:process` or the `process` global would start Deno's
// Node-compatibility layer (~15 ms) before skypool is even imported.
const deno = (globalThis as { Deno?: { args: string[] } }).Deno;
const args = deno ? deno.args : process.argv.slice(2);

// SKYPOOL_ENTRY: another entry to time (bench/startup.ts points Node at the
// npm package as published, which is bundled).
const entry = deno ? undefined : process.env.SKYPOOL_ENTRY;
const { Pool } = entry
  ? await import((await import("node:url")).pathToFileURL(entry).href) as typeof import("../mod.ts")
  : await import("../mod.ts");

const items = Array.from({ length: 10_000 }, (_, i) => i);
const mapsArg = args.find((a) => a.startsWith("--maps="));
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

export {};
