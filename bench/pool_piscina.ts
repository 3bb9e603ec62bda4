// piscina (worker threads, Node) on the workloads of bench/pool.ts.
//
// Standalone (`node npm/build/bench/pool_piscina.js`) it runs every workload a
// few times and prints one JSON document. With `--serve` it is the piscina
// runner of bench/pool.ts: one JSON command per stdin line, one
// `@@bench {json}` line per answer, so the orchestrator can interleave its
// samples with the other implementations'.
import { Piscina } from "npm:piscina@^5.1.3";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./lib/bench_support.ts";

const PREFIX = "@@bench ";

/**
 * The repo root, from bench/ (source) or npm/build/bench/ (compiled); else the working
 * directory (for a copy of the build, run from the repo root).
 */

const root = repoRoot(import.meta.url);
const workerUrl = pathToFileURL(join(root, "bench", "pool_piscina_worker.mjs")).href;

function newPool(threads: number): Piscina {
  return new Piscina({ filename: workerUrl, minThreads: threads, maxThreads: threads });
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

type Reply = Record<string, unknown>;

class Runner {
  #pool: Piscina | undefined;

  async setup(threads: number, nMap: number, nApply: number): Promise<Reply> {
    const t0 = performance.now();
    this.#pool = newPool(threads);
    await this.#pool.run(1, { name: "ident" });
    const firstStartMs = performance.now() - t0;
    await this.mapWarm(nMap);
    await this.applyBurst(nApply);
    return { ms: performance.now() - t0, firstStartMs };
  }

  async poolStart(threads: number): Promise<Reply> {
    const t0 = performance.now();
    const p = newPool(threads);
    const r = await p.run(1, { name: "ident" });
    const ms = performance.now() - t0;
    await p.destroy();
    if (r !== 1) throw new Error(`run returned ${r}`);
    return { ms };
  }

  /** piscina has no map: one `run` per item, as a piscina user would write it. */
  async mapWarm(n: number): Promise<Reply> {
    const pool = this.#warm();
    const items = Array.from({ length: n }, (_, i) => i);
    const t0 = performance.now();
    const out = await Promise.all(items.map((x) => pool.run(x, { name: "inc" })));
    const ms = performance.now() - t0;
    if (!sameList(out, items.map((x) => x + 1))) throw new Error("map returned wrong results");
    return { ms };
  }

  async applyBurst(n: number): Promise<Reply> {
    const pool = this.#warm();
    const t0 = performance.now();
    const pending: Promise<number>[] = [];
    for (let i = 0; i < n; i++) pending.push(pool.run(i, { name: "inc" }));
    const out = await Promise.all(pending);
    const ms = performance.now() - t0;
    if (!sameList(out, Array.from({ length: n }, (_, i) => i + 1))) throw new Error("run returned wrong results");
    return { ms, n };
  }

  async bigMap(count: number, bytes: number): Promise<Reply> {
    const payload = bigPayload(count, bytes);
    const p = newPool(1);
    let out: string[];
    let ms: number;
    try {
      await p.run(1, { name: "ident" });
      const t0 = performance.now();
      out = await Promise.all(payload.map((s) => p.run(s, { name: "ident" }) as Promise<string>));
      ms = performance.now() - t0;
    } finally {
      await p.destroy();
    }
    if (!sameList(out, payload)) throw new Error("big map returned wrong results");
    return { ms };
  }

  info(): Reply {
    return { version: Piscina.version || readVersion(), node: process.version };
  }

  async handle(cmd: Record<string, number | string>): Promise<Reply> {
    switch (cmd.op) {
      case "setup": return await this.setup(+cmd.processes, +cmd.n_map, +cmd.n_apply);
      case "pool_start": return await this.poolStart(+cmd.processes);
      case "map_warm": return await this.mapWarm(+cmd.n);
      case "apply_burst": return await this.applyBurst(+cmd.n);
      case "big_map": return await this.bigMap(+cmd.count, +cmd.bytes);
      case "info": return this.info();
      default: throw new Error(`unknown op ${cmd.op}`);
    }
  }

  async close(): Promise<void> {
    await this.#pool?.destroy();
    this.#pool = undefined;
  }

  #warm(): Piscina {
    if (!this.#pool) throw new Error("setup first");
    return this.#pool;
  }
}

function readVersion(): string {
  return JSON.parse(readFileSync(join(root, "node_modules", "piscina", "package.json"), "utf8")).version;
}

/** `count` distinct flat one-byte strings of `bytes` characters. */
function bigPayload(count: number, bytes: number): string[] {
  const dec = new TextDecoder();
  return Array.from({ length: count }, (_, i) => dec.decode(new Uint8Array(bytes).fill(97 + (i % 26))));
}

async function serve(): Promise<void> {
  const runner = new Runner();
  try {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      const cmd = JSON.parse(line);
      if (cmd.op === "quit") break;
      let reply: Reply;
      try {
        reply = { ok: true, ...(await runner.handle(cmd)) };
      } catch (err) {
        reply = { ok: false, error: String((err as Error)?.stack ?? err) };
      }
      process.stdout.write(PREFIX + JSON.stringify(reply) + "\n");
    }
  } finally {
    await runner.close();
  }
}

async function standalone(reps = 5): Promise<void> {
  const runner = new Runner();
  try {
    await runner.setup(2, 10_000, 2_000);
    const samples: Record<string, number[]> = { pool_start: [], map_warm: [], apply_burst: [], big_map: [] };
    for (let i = 0; i < reps; i++) {
      samples.pool_start.push((await runner.poolStart(2)).ms as number);
      samples.map_warm.push((await runner.mapWarm(10_000)).ms as number);
      samples.apply_burst.push((await runner.applyBurst(2_000)).ms as number);
    }
    for (let i = 0; i < 3; i++) samples.big_map.push((await runner.bigMap(6, 2 ** 24)).ms as number);
    const median = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, [...v].sort((a, b) => a - b)[v.length >> 1]]));
    console.log(JSON.stringify({ runtime: runner.info(), unit: "ms", median, samples }, null, 2));
  } finally {
    await runner.close();
  }
}

if (process.argv.includes("--serve")) await serve();
else await standalone();
