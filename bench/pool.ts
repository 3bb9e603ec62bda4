// `npm run bench -- pool`: skypool's Pool against CPython's multiprocessing.Pool
// and piscina, on Node and on Deno, in one run.
//
// Without arguments this is the orchestrator (run compiled, on Node, by
// bench/run.mjs). It starts four long-lived runners — skypool on Node (this
// file, `--runner`), skypool on Deno (`deno run -A bench/pool.ts --runner`),
// CPython (bench/pool_cpython.py --serve) and piscina
// (bench/pool_piscina.ts --serve) — and asks them for one sample at a time,
// rotating the order every round, so that the machine's noise falls on every
// implementation alike. Between samples it times the runtimes' bare process
// starts. Figures are medians. It writes bench/results/pool.{md,json}.
//
// Runner protocol: one JSON command per stdin line; one `@@bench {json}` line
// per answer on stdout (other stdout lines, e.g. from workers, are passed on
// to stderr).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Pool as SkypoolPool } from "../mod.ts";
import { repoRoot } from "./lib/bench_support.ts";

const PREFIX = "@@bench ";

type Reply = Record<string, unknown>;
type Command = Record<string, string | number>;

/**
 * The repo root, from bench/ (source, Deno) or npm/build/bench/ (compiled, Node); else the working
 * directory (for a copy of the build, run from the repo root).
 */

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------------------
// Runner: skypool's Pool, in this process's runtime (Node or Deno).

// Self-contained, so that they ship by source.
const inc = (x: number): number => x + 1;
const ident = <T>(x: T): T => x;
/** The answering worker's process id (the runtime of the worker, whichever it is). */
const workerPid = (): number => (globalThis as { Deno?: { pid: number } }).Deno?.pid ?? process.pid;

/**
 * Waits until each of the pool's `processes` workers has answered a task: a
 * pool starts half its workers first and the rest once one is ready, so a
 * warm-up run straight after the first answer would warm only the first
 * wave, and the "warm" samples would time a worker's JIT warm-up instead.
 */
async function allWorkersAnswered(pool: SkypoolPool, processes: number): Promise<void> {
  const seen = new Set<number>();
  const deadline = performance.now() + 30_000;
  while (seen.size < processes) {
    if (performance.now() > deadline) throw new Error(`only ${seen.size} of ${processes} workers answered in 30 s`);
    for (const pid of await pool.map(workerPid, Array.from({ length: 4 * processes }, () => undefined), 1)) seen.add(pid);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `count` distinct flat one-byte strings of `bytes` characters (distinct,
 * so that no codec can send one by reference to another). */
function bigPayload(count: number, bytes: number): string[] {
  const dec = new TextDecoder();
  return Array.from({ length: count }, (_, i) => dec.decode(new Uint8Array(bytes).fill(97 + (i % 26))));
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function runner(): Promise<void> {
  // Imported here, not at the top, so that the orchestrator never loads the
  // library it measures (as `import multiprocessing` in the Python runner,
  // this happens before any timing).
  const { Pool } = await import("../mod.ts");
  let warm: SkypoolPool | undefined;
  const warmPool = (): SkypoolPool => {
    if (!warm) throw new Error("setup first");
    return warm;
  };

  const mapWarm = async (n: number): Promise<Reply> => {
    const items = Array.from({ length: n }, (_, i) => i);
    const t0 = performance.now();
    const out = await warmPool().map(inc, items);
    const ms = performance.now() - t0;
    if (!sameList(out, items.map((x) => x + 1))) throw new Error("map returned wrong results");
    return { ms };
  };
  const applyBurst = async (n: number): Promise<Reply> => {
    const pool = warmPool();
    const t0 = performance.now();
    const pending = [];
    for (let i = 0; i < n; i++) pending.push(pool.applyAsync(inc, [i]));
    const out = await Promise.all(pending);
    const ms = performance.now() - t0;
    if (!sameList(out, Array.from({ length: n }, (_, i) => i + 1))) throw new Error("applyAsync returned wrong results");
    return { ms, n };
  };
  const ops: Record<string, (c: Command) => Promise<Reply>> = {
    info: () =>
      Promise.resolve({
        runtime: "Deno" in globalThis ? "deno" : "node",
        version: (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno ?? process.version,
      }),
    // The warm pool: its start is the first pool start of this process
    // (lazy one-time initialisation included), reported on its own.
    setup: async (c) => {
      const t0 = performance.now();
      warm = new Pool(+c.processes);
      await warm.apply(ident, [1]);
      const firstStartMs = performance.now() - t0;
      await allWorkersAnswered(warm, +c.processes);
      await warm.map(inc, Array.from({ length: +c.n_map }, (_, i) => i));
      await applyBurst(+c.n_apply);
      return { ms: performance.now() - t0, firstStartMs };
    },
    pool_start: async (c) => {
      const t0 = performance.now();
      const p = new Pool(+c.processes);
      let r: unknown;
      let ms: number;
      try {
        r = await p.apply(ident, [1]);
        ms = performance.now() - t0;
      } finally {
        await p.terminate();
      }
      if (r !== 1) throw new Error(`apply returned ${String(r)}`);
      return { ms };
    },
    map_warm: (c) => mapWarm(+c.n),
    apply_burst: (c) => applyBurst(+c.n),
    big_map: async (c) => {
      const payload = bigPayload(+c.count, +c.bytes);
      const p = new Pool(1);
      let out: string[];
      let ms: number;
      try {
        await p.apply(ident, [1]);
        const t0 = performance.now();
        out = await p.map(ident, payload);
        ms = performance.now() - t0;
      } finally {
        await p.terminate();
      }
      if (!sameList(out, payload)) throw new Error("big map returned wrong results");
      return { ms };
    },
  };

  try {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      const cmd = JSON.parse(line) as Command;
      if (cmd.op === "quit") break;
      let reply: Reply;
      try {
        const op = ops[cmd.op];
        if (!op) throw new Error(`unknown op ${cmd.op}`);
        reply = { ok: true, ...(await op(cmd)) };
      } catch (err) {
        reply = { ok: false, error: String((err as Error)?.stack ?? err) };
      }
      process.stdout.write(PREFIX + JSON.stringify(reply) + "\n");
    }
  } finally {
    await warm?.terminate();
  }
  // Deno keeps stdin's reader open; leave explicitly once the pools are gone.
  process.exit(0);
}

// ---------------------------------------------------------------------------
// Orchestrator.

/** A long-lived runner process answering one command at a time. */
class RunnerProc {
  readonly #child: ChildProcess;
  #waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  #dead: string | undefined;

  constructor(readonly name: string, cmd: string, args: string[], cwd: string) {
    this.#child = spawn(cmd, args, { cwd, stdio: ["pipe", "pipe", "inherit"] });
    this.#child.on("error", (err) => this.#fail(`could not start: ${err.message}`));
    this.#child.on("exit", (code, signal) => this.#fail(`exited (code ${code}, signal ${signal})`));
    createInterface({ input: this.#child.stdout!, crlfDelay: Infinity }).on("line", (line) => {
      if (!line.startsWith(PREFIX)) {
        process.stderr.write(`[${this.name}] ${line}\n`);
        return;
      }
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.resolve(JSON.parse(line.slice(PREFIX.length)));
    });
  }

  get dead(): string | undefined {
    return this.#dead;
  }

  /** One command; rejects on an error reply, a timeout (the runner is then killed) or an exit. */
  request(cmd: Command, timeoutMs: number): Promise<Reply> {
    if (this.#dead) return Promise.reject(new Error(`${this.name} ${this.#dead}`));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(`timed out after ${timeoutMs} ms on ${cmd.op}`);
        this.#child.kill("SIGKILL");
      }, timeoutMs);
      this.#waiting = {
        resolve: (r) => {
          clearTimeout(timer);
          if (r.ok) resolve(r);
          else reject(new Error(String(r.error)));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#child.stdin!.write(JSON.stringify(cmd) + "\n");
    });
  }

  async quit(): Promise<void> {
    if (this.#dead) return;
    const exited = new Promise<void>((r) => this.#child.once("exit", () => r()));
    this.#child.stdin!.end(JSON.stringify({ op: "quit" }) + "\n");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }

  #fail(why: string): void {
    this.#dead ??= why;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.reject(new Error(`${this.name} ${why}`));
  }
}

interface Impl {
  id: string;
  label: string;
  runtime: string;
  proc?: RunnerProc;
}

interface Row {
  workload: string;
  impl: string;
  value: number | null;
  unit: string;
  n: number;
  min?: number;
  max?: number;
  samples: number[];
  note?: string;
}

interface Ratio {
  value: number | null;
  criterion: string;
  pass: boolean | null;
  of: string;
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return (r.stdout || r.stderr || "").trim().split("\n")[0] ?? "";
}

function spawnMs(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.error})`);
  return ms;
}

async function orchestrate(): Promise<void> {
  const started = performance.now();
  const budgetMs = 270_000;
  const over = () => performance.now() - started > budgetMs;
  const root = repoRoot(import.meta.url);
  const cfg = { processes: 2, rounds: 8, nMap: 10_000, nApply: 2_000, bigCount: 6, bigBytes: 2 ** 24 };
  const perRound = { bare: 2, pool_start: 2, map_warm: 2, apply_burst: 2, big_map: 1 };

  // The interpreter itself, not a launcher such as a pyenv shim (whose own
  // start would count as Python's).
  const python = firstLine("python3", ["-c", "import sys; print(sys.executable)"]) || "python3";
  const localDeno = join(root, "node_modules", ".bin", "deno");
  const deno = existsSync(localDeno) ? localDeno : "deno";
  // The compiled runners sit next to this compiled file.
  const compiledDir = dirname(fileURLToPath(import.meta.url));
  const scratch = mkdtempSync(join(tmpdir(), "skypool-bench-"));
  const emptyTs = join(scratch, "empty.ts");
  writeFileSync(emptyTs, "");

  const bare: { id: string; label: string; cmd: string; args: string[] }[] = [
    { id: "node", label: "node -e 0", cmd: process.execPath, args: ["-e", "0"] },
    { id: "deno", label: "deno run -A empty.ts", cmd: deno, args: ["run", "-A", emptyTs] },
    { id: "deno-eval", label: "deno eval 0", cmd: deno, args: ["eval", "0"] },
    { id: "python", label: "python3 -c pass", cmd: python, args: ["-c", "pass"] },
  ];
  const impls: Impl[] = [
    { id: "skypool-node", label: "skypool (Node)", runtime: "node" },
    { id: "skypool-deno", label: "skypool (Deno)", runtime: "deno" },
    { id: "cpython", label: "CPython multiprocessing.Pool", runtime: "python" },
    { id: "piscina", label: "piscina (Node threads)", runtime: "node" },
  ];
  const launch: Record<string, [string, string[]]> = {
    "skypool-node": [process.execPath, [join(compiledDir, "pool.js"), "--runner"]],
    "skypool-deno": [deno, ["run", "-A", join(root, "bench", "pool.ts"), "--runner"]],
    cpython: [python, [join(root, "bench", "pool_cpython.py"), "--serve"]],
    piscina: [process.execPath, [join(compiledDir, "pool_piscina.js"), "--serve"]],
  };

  const samples = new Map<string, number[]>(); // `${workload}|${impl}` → ms
  const add = (w: string, impl: string, v: number) => {
    const k = `${w}|${impl}`;
    samples.set(k, [...(samples.get(k) ?? []), v]);
  };
  const errors: { impl: string; workload: string; error: string }[] = [];
  const infos: Record<string, Reply> = {};
  const loadBefore = loadavg();

  const ready = new Set<string>(); // runners whose warm pool is up
  const ask = async (impl: Impl, w: string, cmd: Command, timeoutMs: number): Promise<Reply | undefined> => {
    if (!impl.proc || impl.proc.dead) return undefined;
    if ((w === "map_warm" || w === "apply_burst") && !ready.has(impl.id)) return undefined;
    try {
      return await impl.proc.request({ op: w, ...cmd }, timeoutMs);
    } catch (err) {
      const msg = (err as Error).message;
      // The same failure every round is one finding: keep the first.
      if (!errors.some((e) => e.impl === impl.id && e.workload === w)) {
        errors.push({ impl: impl.id, workload: w, error: msg });
        process.stderr.write(`bench: ${impl.label}, ${w}: ${msg}\n`);
      }
      return undefined;
    }
  };

  console.log(`bench pool: ${cfg.rounds} rounds; runners starting…`);
  for (const b of bare) {
    try {
      spawnMs(b.cmd, b.args); // warm the page cache and Deno's module cache
    } catch (err) {
      errors.push({ impl: b.id, workload: "bare", error: (err as Error).message });
    }
  }
  for (const impl of impls) {
    const [cmd, args] = launch[impl.id];
    impl.proc = new RunnerProc(impl.label, cmd, args, root);
    const info = await ask(impl, "info", {}, 60_000);
    if (info) infos[impl.id] = info;
    const setup = await ask(impl, "setup", { processes: cfg.processes, n_map: cfg.nMap, n_apply: cfg.nApply }, 120_000);
    if (setup) ready.add(impl.id);
    if (setup && typeof setup.firstStartMs === "number") add("pool_start_first", impl.id, setup.firstStartMs);
  }

  const cmds: Record<string, Command> = {
    pool_start: { processes: cfg.processes },
    map_warm: { n: cfg.nMap },
    apply_burst: { n: cfg.nApply },
    big_map: { count: cfg.bigCount, bytes: cfg.bigBytes },
  };
  let roundsDone = 0;
  for (let r = 0; r < cfg.rounds && !over(); r++) {
    const order = impls.map((_, i) => impls[(i + r) % impls.length]);
    for (let k = 0; k < perRound.bare; k++) {
      for (const b of bare.map((_, i) => bare[(i + r) % bare.length])) {
        try {
          add("bare", b.id, spawnMs(b.cmd, b.args));
        } catch (err) {
          errors.push({ impl: b.id, workload: "bare", error: (err as Error).message });
        }
      }
    }
    for (const w of ["pool_start", "map_warm", "apply_burst", "big_map"] as const) {
      for (let k = 0; k < perRound[w]; k++) {
        for (const impl of order) {
          if (over()) break;
          const reply = await ask(impl, w, cmds[w], w === "big_map" ? 90_000 : 60_000);
          if (reply) add(w, impl.id, reply.ms as number);
        }
      }
    }
    roundsDone++;
    console.log(`bench pool: round ${roundsDone}/${cfg.rounds} done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await Promise.all(impls.map((i) => i.proc?.quit()));
  rmSync(scratch, { recursive: true, force: true });

  // --- figures
  const rows: Row[] = [];
  const row = (workload: string, key: string, impl: string, unit: string, f: (ms: number) => number, note?: string) => {
    const xs = (samples.get(key) ?? []).map(f);
    rows.push({
      workload,
      impl,
      value: xs.length ? median(xs) : null,
      unit,
      n: xs.length,
      ...(xs.length ? { min: Math.min(...xs), max: Math.max(...xs) } : {}),
      samples: xs,
      ...(note ? { note } : {}),
    });
    return xs.length ? median(xs) : null;
  };
  const label = (id: string) => impls.find((i) => i.id === id)?.label ?? bare.find((b) => b.id === id)?.label ?? id;
  const v: Record<string, number | null> = {};
  for (const b of bare) v[`bare|${b.id}`] = row("bare process start", `bare|${b.id}`, b.label, "ms", (x) => x);
  for (const i of impls) v[`pool_start|${i.id}`] = row("pool start (new Pool(2) → first apply)", `pool_start|${i.id}`, i.label, "ms", (x) => x);
  for (const i of impls) {
    row("pool start, first in process (lazy init included)", `pool_start_first|${i.id}`, i.label, "ms", (x) => x, "one sample per runner: the warm pool's start");
  }
  for (const i of impls) {
    v[`map_warm|${i.id}`] = row(`warm map of ${cfg.nMap} trivial items`, `map_warm|${i.id}`, i.label, "ms", (x) => x,
      i.id === "piscina" ? "piscina has no map: one run() per item" : undefined);
  }
  for (const i of impls) {
    v[`apply_burst|${i.id}`] = row(`${cfg.nApply} concurrent applyAsync round trips`, `apply_burst|${i.id}`, i.label, "tasks/s",
      (ms) => cfg.nApply / (ms / 1000), i.id === "piscina" ? "pool.run × 2000, Promise.all" : undefined);
  }
  for (const i of impls) {
    v[`big_map|${i.id}`] = row(`map of ${cfg.bigCount} × 16 MiB strings, Pool(1), identity`, `big_map|${i.id}`, i.label, "s",
      (ms) => ms / 1000, i.id === "piscina" ? "1 thread, one run() per item" : undefined);
  }

  const ratio = (of: string, a: number | null | undefined, b: number | null | undefined, criterion: string): Ratio => {
    const value = a != null && b != null && b > 0 ? a / b : null;
    const m = /^(≤|≥) ([\d.]+)$/.exec(criterion);
    const pass = value == null || !m ? null : m[1] === "≤" ? value <= +m[2] : value >= +m[2];
    return { value, criterion, pass, of };
  };
  const ratios: Record<string, Ratio> = {};
  for (const [rt, impl] of [["node", "skypool-node"], ["deno", "skypool-deno"]] as const) {
    const R = rt === "node" ? "Node" : "Deno";
    ratios[`pool_start_${rt}_vs_bare_${rt}`] = ratio(`skypool (${R}) pool start ÷ ${label(rt)}`, v[`pool_start|${impl}`], v[`bare|${rt}`], "≤ 2");
    ratios[`map_warm_${rt}_vs_cpython`] = ratio(`skypool (${R}) warm map time ÷ CPython's`, v[`map_warm|${impl}`], v["map_warm|cpython"], "≤ 2");
    ratios[`apply_tps_${rt}_vs_cpython`] = ratio(`skypool (${R}) applyAsync tasks/s ÷ CPython's`, v[`apply_burst|${impl}`], v["apply_burst|cpython"], "≥ 1");
    ratios[`apply_tps_${rt}_vs_piscina`] = ratio(`skypool (${R}) applyAsync tasks/s ÷ piscina's`, v[`apply_burst|${impl}`], v["apply_burst|piscina"], "≥ 1");
    ratios[`big_map_${rt}_vs_cpython`] = ratio(`skypool (${R}) 6 × 16 MiB map time ÷ CPython's (catalogue LMP-34)`, v[`big_map|${impl}`], v["big_map|cpython"], "≤ 2");
  }
  ratios.pool_start_cpython_vs_bare_python = ratio("CPython Pool(2) start ÷ python3 -c pass (for reference)", v["pool_start|cpython"], v["bare|python"], "info");
  ratios.pool_start_piscina_vs_bare_node = ratio("piscina start ÷ node -e 0 (for reference)", v["pool_start|piscina"], v["bare|node"], "info");
  ratios.bare_deno_eval_vs_run = ratio("deno eval 0 ÷ deno run -A empty.ts (for reference)", v["bare|deno-eval"], v["bare|deno"], "info");

  const cpu = cpus();
  const version = (id: string) => String(infos[id]?.version ?? "");
  const machine = {
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    os: `${osType()} ${release()}`,
    loadavgBefore: loadBefore.map((x) => +x.toFixed(2)),
    loadavgAfter: loadavg().map((x) => +x.toFixed(2)),
  };
  const runtimes = {
    node: process.version,
    deno: version("skypool-deno") || firstLine(deno, ["--version"]),
    python: `${infos.cpython?.implementation ?? "CPython"} ${version("cpython") || firstLine(python, ["--version"])} (${infos.cpython?.start_method ?? "?"} start method)`,
    pythonExecutable: python,
    piscina: version("piscina"),
    skypool: JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version,
  };
  const durationS = +((performance.now() - started) / 1000).toFixed(1);
  const config = { ...cfg, perRound, roundsDone, runnerOrder: "rotated every round; samples interleaved across implementations" };
  const json = { date: new Date().toISOString(), machine, runtimes, config, rows, ratios, errors, durationS };

  const outDir = join(root, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "pool.json"), JSON.stringify(json, null, 2) + "\n");
  writeFileSync(join(outDir, "pool.md"), markdown(json));
  console.log(markdownTables(rows, ratios));
  console.log(`bench pool: wrote bench/results/pool.md and pool.json (${durationS} s)`);
  if (errors.length) console.log(`bench pool: ${errors.length} error(s), see pool.json`);
}

const fmt = (x: number | null | undefined, unit = ""): string => {
  if (x == null) return "n/a";
  const digits = unit === "tasks/s" ? 0 : x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : 3;
  return x.toFixed(digits);
};

function markdownTables(rows: Row[], ratios: Record<string, Ratio>): string {
  const lines = ["| workload | implementation | median | unit | min – max | n |", "| --- | --- | ---: | --- | --- | ---: |"];
  for (const r of rows) {
    const range = r.n ? `${fmt(r.min, r.unit)} – ${fmt(r.max, r.unit)}` : "";
    lines.push(`| ${r.workload} | ${r.impl}${r.note ? ` (${r.note})` : ""} | ${fmt(r.value, r.unit)} | ${r.unit} | ${range} | ${r.n} |`);
  }
  lines.push("", "| ratio | value | criterion | result |", "| --- | ---: | --- | --- |");
  for (const q of Object.values(ratios)) {
    const res = q.pass == null ? (q.criterion === "info" ? "—" : "n/a") : q.pass ? "**pass**" : "**FAIL**";
    // Near the bound, two decimals could print "2.00" for a fail: show three.
    const bound = Number(q.criterion.split(" ")[1]);
    const shown = q.value == null ? "n/a" : q.value.toFixed(Math.abs(q.value - bound) < 0.01 ? 3 : 2);
    lines.push(`| ${q.of} | ${shown} | ${q.criterion === "info" ? "—" : q.criterion} | ${res} |`);
  }
  return lines.join("\n");
}

function markdown(j: {
  date: string;
  machine: Record<string, unknown>;
  runtimes: Record<string, unknown>;
  config: Record<string, unknown>;
  rows: Row[];
  ratios: Record<string, Ratio>;
  errors: { impl: string; workload: string; error: string }[];
  durationS: number;
}): string {
  const m = j.machine;
  const rt = j.runtimes;
  return [
    "# Pool benchmark",
    "",
    `Generated by \`npm run bench -- pool\` (bench/pool.ts) on ${j.date}, in one run of ${j.durationS} s. Do not edit by hand.`,
    "",
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; load average before ${(m.loadavgBefore as number[]).join(" ")}, after ${(m.loadavgAfter as number[]).join(" ")} (a shared, noisy machine).`,
    "",
    `Runtimes: Node ${rt.node}; Deno ${rt.deno}; ${rt.python}; piscina ${rt.piscina}; skypool ${rt.skypool}.`,
    "",
    "Method: four long-lived runners (skypool on Node, skypool on Deno, CPython, piscina) answer one sample at a time;",
    `the order of the runners rotates every round and the samples of each workload are interleaved (${j.config.roundsDone} rounds).`,
    "Every figure is the median of its samples. All pools have 2 workers (processes, or threads for piscina) unless stated.",
    "- bare process start: the orchestrator (Node) spawns the command and waits for its exit; Python is its real executable, not a launcher shim.",
    "- pool start: `new Pool(2)` until the first `apply` returns, a fresh pool every sample (terminated after); the library is imported before.",
    "  The runner's first pool (lazy one-time initialisation included) is reported on its own row.",
    "- warm map: `map(x => x + 1, items)` on a pool started and warmed with one map and one burst of applyAsync (below), default chunksize (CPython: `map(inc, range(10000))`).",
    "  The warm-up starts once every worker of the pool has answered a task (for all three pools), so that it reaches all of them:",
    "  a skypool pool starts half its workers first and the rest once one is ready.",
    "- applyAsync round trips: submit 2 000 `applyAsync(x => x + 1, [i])` at once, then await all (CPython: `apply_async` × 2000, then `.get()` each).",
    "- 6 × 16 MiB: `new Pool(1)`, warmed with one apply, then `map(identity, six distinct 16 MiB strings)`, default chunksize, so 96 MiB crosses each way",
    "  (lambda_multiprocessing's test_map_deadlock returns the payload after a 0.3 s sleep; the sleep is left out here to time the transfer).",
    "",
    markdownTables(j.rows, j.ratios),
    "",
    j.errors.length ? ["## Errors", "", ...j.errors.map((e) => `- ${e.impl}, ${e.workload}: ${e.error.split("\n")[0]}`), ""].join("\n") : "",
  ].join("\n");
}

if (process.argv.includes("--runner")) await runner();
else await orchestrate();
