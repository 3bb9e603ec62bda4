// Exact-count check of a long imap / imapUnordered (issue 7's figure): every
// item of a 2 000 000-item generator must come back exactly once (and in
// order for imap), on Node and on Deno.
//
// `npm run bench -- imap_exact [items] [chunksize]` runs the Node half in
// this process and the Deno half in a `deno run` child of this same file
// (`--runtime-child`), then writes bench/results/imap_exact.{json,md}.
// The check is the counts; the times are for information (2 shared cores).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Pool } from "../mod.ts";
import { repoRoot } from "./lib/bench_support.ts";
import { machineLine, writeResults } from "./lib/results.ts";

const args = process.argv.slice(2).filter((a) => a !== "--runtime-child");
const child = process.argv.includes("--runtime-child");
const n = Number(args[0] ?? 2_000_000);
const chunksize = Number(args[1] ?? 1);

interface Count {
  runtime: string;
  kind: "imap" | "imapUnordered";
  items: number;
  chunksize: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder?: number;
  ms: number;
}

function* range(count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
}

async function count(runtime: string, kind: "imap" | "imapUnordered", pool: Pool): Promise<Count> {
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
  return { runtime, kind, items: n, chunksize, delivered, lost, duplicated, outOfOrder: kind === "imap" ? outOfOrder : undefined, ms: Math.round(ms) };
}

async function countHere(): Promise<Count[]> {
  const runtime = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno" : "node";
  const pool = new Pool(2);
  try {
    const out: Count[] = [];
    for (const kind of ["imap", "imapUnordered"] as const) out.push(await count(runtime, kind, pool));
    return out;
  } finally {
    await pool.terminate();
  }
}

function countOnDeno(root: string): Count[] {
  const local = join(root, "node_modules", ".bin", "deno");
  const deno = existsSync(local) ? local : "deno";
  const r = spawnSync(deno, ["run", "-A", "--no-check", join(root, "bench", "imap_exact.ts"), "--runtime-child", String(n), String(chunksize)], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0) throw new Error(`imap_exact: the Deno half exited with ${r.status ?? r.signal}`);
  return r.stdout.trim().split("\n").map((line) => JSON.parse(line) as Count);
}

if (child) {
  for (const c of await countHere()) console.log(JSON.stringify(c));
} else {
  const root = repoRoot(import.meta.url);
  const loadBefore = loadavg();
  const counts = [...(await countHere()), ...countOnDeno(root)];
  const loadAfter = loadavg();
  const exact = counts.every((c) => c.delivered === n && c.lost === 0 && c.duplicated === 0 && (c.outOfOrder ?? 0) === 0);
  const json: Record<string, unknown> = { date: new Date().toISOString(), items: n, chunksize, exact: exact ? 1 : 0 };
  for (const c of counts) json[`${c.runtime}.${c.kind}`] = { delivered: c.delivered, lost: c.lost, duplicated: c.duplicated, outOfOrder: c.outOfOrder, ms: c.ms };
  const md = [
    "# imap exact counts",
    "",
    `\`npm run bench -- imap_exact\` (bench/imap_exact.ts), ${json.date}. ${machineLine(loadBefore, loadAfter)}.`,
    `\`Pool(2)\`, a ${n}-item generator, chunksize ${chunksize} (${Math.ceil(n / chunksize)} chunks, far past the`,
    "256-chunk in-flight window that once lost a chunk), every item checked exactly once (and in order for `imap`).",
    "",
    "| runtime | API | delivered | lost | duplicated | out of order | ms |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ...counts.map((c) => `| ${c.runtime} | ${c.kind} | ${c.delivered} | ${c.lost} | ${c.duplicated} | ${c.outOfOrder ?? "—"} | ${c.ms} |`),
    "",
    `Criterion: every item exactly once, in order for imap: **${exact ? "pass" : "FAIL"}**.`,
    "",
  ].join("\n");
  writeResults(root, "imap_exact", json, md);
  if (!exact) process.exitCode = 1;
}
