// Exact-count check of a long imap / imapUnordered (issue 7's figure): every
// item of a 2 000 000-item generator must come back exactly once. Prints one
// JSON line per run; `npm run bench -- imap_exact` (Node), or run this file
// with `deno run -A` for Deno. Args: [items] [chunksize].
import process from "node:process";
import { Pool } from "../mod.ts";

const n = Number(process.argv[2] ?? 2_000_000);
const chunksize = Number(process.argv[3] ?? 1);

function* range(count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
}

async function count(kind: "imap" | "imapUnordered", pool: Pool): Promise<Record<string, unknown>> {
  const seen = new Uint8Array(n);
  let delivered = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let last = -1;
  const t0 = performance.now();
  for await (const y of pool[kind]((x: number) => x, range(n), chunksize)) {
    delivered++;
    if (seen[y]) duplicated++;
    seen[y] = 1;
    if (y < last) outOfOrder++;
    last = y;
  }
  const ms = performance.now() - t0;
  let lost = 0;
  for (let i = 0; i < n; i++) if (!seen[i]) lost++;
  return { kind, items: n, chunksize, delivered, lost, duplicated, outOfOrder: kind === "imap" ? outOfOrder : undefined, ms: Math.round(ms) };
}

const pool = new Pool(2);
try {
  const runtime = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno" : "node";
  for (const kind of ["imap", "imapUnordered"] as const) console.log(JSON.stringify({ runtime, ...(await count(kind, pool)) }));
} finally {
  await pool.terminate();
}
