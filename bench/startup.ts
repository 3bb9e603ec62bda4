// `npm run bench -- startup`: what a short script pays, on Node, on Deno and
// with CPython, in one run (run compiled, on Node, by bench/run.mjs).
//
// - import: milliseconds (wall and CPU) of `await import("skypool")` inside a
//   fresh process (the npm package, bundled, on Node; mod.ts on Deno), also with the
//   `redis` package imported before, untimed: what is left once it is lazy;
// - one-shot: the whole process of bench/startup_oneshot.ts (import, Pool(2),
//   one map of 10 000 items, terminate) against the runtime's bare start and
//   CPython's same script (bench/startup_oneshot.py, /usr/bin/python3);
// - first and tenth map of 10 000 items on a fresh pool (`--maps=10`), once
//   it is ready (its first `apply` returned: the workers are up).
//
// Every figure is sampled once per round, the order rotating each round, so
// the machine's load falls on all alike; ratios are medians of the per-round
// ratios (paired), figures medians over rounds. Writes
// bench/results/startup.{md,json}.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, type as osType } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median, repoRoot } from "./lib/bench_support.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const PYTHON = "/usr/bin/python3";
const ROOT = repoRoot(import.meta.url);

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** GNU time, when installed: the CPU time of a whole process tree (workers included, once reaped). */
const TIME = "/usr/bin/time";
const CPU_MARK = "@@cpu ";

/**
 * Runs a command to its end; its wall time, the `@@name` line it printed,
 * if any, and, with `cpu`, the CPU milliseconds (user + system) of the
 * process and the children it waited for, which other sessions' load on
 * this shared machine disturbs far less than wall time.
 */
function run(cmd: string, args: string[], cpu = false, env?: Record<string, string>): { ms: number; out: string; cpuMs?: number } {
  const timed = cpu && existsSync(TIME);
  const [file, argv] = timed ? [TIME, ["-f", `${CPU_MARK}%U %S`, cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  // From the repo root, where `node -e` resolves packages (node_modules).
  const r = spawnSync(file, argv, { cwd: ROOT, encoding: "utf8", maxBuffer: 16 << 20, env: env && { ...process.env, ...env } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.error}): ${r.stderr}`);
  if (!timed) return { ms, out: r.stdout };
  const line = r.stderr.split("\n").reverse().find((l) => l.startsWith(CPU_MARK));
  if (line === undefined) throw new Error(`bench: ${TIME} printed no CPU line: ${r.stderr.slice(-400)}`);
  const [user, sys] = line.slice(CPU_MARK.length).split(" ").map(Number);
  return { ms, out: r.stdout, cpuMs: (user + sys) * 1000 };
}

function reported(out: string, name: string): string {
  const line = out.split("\n").find((l) => l.startsWith(`@@${name} `));
  if (line === undefined) throw new Error(`bench: no @@${name} line in ${JSON.stringify(out.slice(0, 400))}`);
  return line.slice(name.length + 3);
}

interface Probe {
  id: string;
  label: string;
  /** Takes one sample: named figures in ms. */
  sample(): Record<string, number>;
}

function main(): void {
  const root = ROOT;
  const compiledDir = dirname(fileURLToPath(import.meta.url));
  const localDeno = join(root, "node_modules", ".bin", "deno");
  const deno = existsSync(localDeno) ? localDeno : "deno";
  const scratch = mkdtempSync(join(tmpdir(), "skypool-startup-"));
  const empty = join(scratch, "empty.js");
  writeFileSync(empty, "");
  // Node runs the npm package as published (bundled by npm/build.mjs) when it was built, else the build.
  const packageEntry = join(root, "npm", "package", "mod.js");
  const nodeEntry = existsSync(packageEntry) ? packageEntry : join(compiledDir, "..", "mod.js");
  const nodeEnv = { SKYPOOL_ENTRY: nodeEntry };
  const nodeMod = pathToFileURL(nodeEntry).href;
  const denoMod = pathToFileURL(join(root, "mod.ts")).href;
  // Wall and CPU milliseconds of the import; with `preload`, that module is
  // imported first, untimed (the figure "without redis": what is left once it is lazy).
  const importCode = (url: string, preload?: string) =>
    `const { cpuUsage } = await import("node:process");${preload ? ` await import(${JSON.stringify(preload)});` : ""}
    const c = cpuUsage(); const t = performance.now(); await import(${JSON.stringify(url)});
    const u = cpuUsage(c); console.log("@@import " + JSON.stringify([performance.now() - t, (u.user + u.system) / 1000]));`;
  // The import as a script's very first statement, as a user's script does it: on Deno this also
  // starts the Node-compatibility layer (node:process, node:fs…), which importCode loads before the
  // clock starts. Its CPU figure is the process's CPU up to the end of the import (runtime start included).
  const firstImportCode = (url: string) =>
    `const t = performance.now(); await import(${JSON.stringify(url)}); const ms = performance.now() - t;
    const { cpuUsage } = await import("node:process"); const u = cpuUsage();
    console.log("@@import " + JSON.stringify([ms, (u.user + u.system) / 1000]));`;
  // Deno runs the import code as a script file, as a user's script runs: `deno eval` of the same
  // code costs ~20 ms of CPU more. The repository's deno.json resolves npm packages from node_modules.
  const denoRun = (name: string, code: string) => {
    writeFileSync(join(scratch, name), code);
    return ["run", "-A", "--no-check", "--config", join(root, "deno.json"), join(scratch, name)];
  };
  const importProbe = (id: string, label: string, cmd: string, args: string[]): Probe => ({
    id,
    label,
    sample: () => {
      const [ms, cpu] = JSON.parse(reported(run(cmd, args).out, "import")) as number[];
      return { ms, cpu };
    },
  });
  const wall = (id: string, label: string, cmd: string, args: string[], env?: Record<string, string>): Probe => ({
    id,
    label,
    sample: (): Record<string, number> => {
      const { ms, cpuMs } = run(cmd, args, true, env);
      return cpuMs === undefined ? { ms } : { ms, cpu: cpuMs };
    },
  });
  const maps = (id: string, label: string, cmd: string, args: string[], env?: Record<string, string>): Probe => ({
    id,
    label,
    sample: () => {
      const [ready, ...ms] = JSON.parse(reported(run(cmd, [...args, "--maps=10"], false, env).out, "maps")) as number[];
      return { ready, first: ms[0], tenth: ms[9] };
    },
  });
  const nodeOneshot = join(compiledDir, "startup_oneshot.js");
  const denoOneshot = join(root, "bench", "startup_oneshot.ts");
  const pyOneshot = join(root, "bench", "startup_oneshot.py");
  const probes: Probe[] = [
    wall("bare_node", "node -e 0", process.execPath, ["-e", "0"]),
    wall("bare_deno", "deno run -A empty.js", deno, ["run", "-A", empty]),
    wall("bare_python", "python3 -c pass", PYTHON, ["-c", "pass"]),
    importProbe("import_node", "import (Node, npm package)", process.execPath, ["--input-type=module", "-e", importCode(nodeMod)]),
    importProbe("import_node_noredis", "import (Node), redis imported before", process.execPath, [
      "--input-type=module",
      "-e",
      importCode(nodeMod, "redis"),
    ]),
    importProbe("import_deno", "import (Deno, mod.ts), the script's first statement", deno, denoRun("import_deno.js", firstImportCode(denoMod))),
    importProbe("import_deno_compat", "import (Deno, mod.ts), node:process loaded before", deno, denoRun("import_deno_compat.js", importCode(denoMod))),
    wall("oneshot_node", "one-shot script (Node)", process.execPath, [nodeOneshot], nodeEnv),
    wall("oneshot_deno", "one-shot script (Deno)", deno, ["run", "-A", "--no-check", denoOneshot]),
    wall("oneshot_python", "one-shot script (CPython)", PYTHON, [pyOneshot]),
    maps("maps_node", "map of 10 000 (Node)", process.execPath, [nodeOneshot], nodeEnv),
    maps("maps_deno", "map of 10 000 (Deno)", deno, ["run", "-A", "--no-check", denoOneshot]),
    maps("maps_python", "map of 10 000 (CPython)", PYTHON, [pyOneshot]),
  ];

  const before = loadavg();
  // One untimed pass: Deno compiles and caches the sources, the OS caches the files.
  for (const p of probes) p.sample();
  const samples: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`round ${r + 1}/${ROUNDS}\n`);
    for (let j = 0; j < probes.length; j++) {
      const p = probes[(j + r) % probes.length];
      for (const [k, v] of Object.entries(p.sample())) (samples[`${p.id}.${k}`] ??= []).push(v);
    }
  }
  rmSync(scratch, { recursive: true, force: true });

  const fig = (key: string) => round1(median(samples[key]));
  const paired = (a: string, b: string) =>
    samples[a] === undefined || samples[b] === undefined ? NaN : round2(median(samples[a].map((x, i) => x / samples[b][i])));
  const figures: Record<string, { label: string; median_ms: number; samples_ms: number[] }> = {};
  for (const p of probes) {
    for (const key of Object.keys(samples).filter((k) => k.startsWith(p.id + "."))) {
      const which = key.slice(p.id.length + 1);
      figures[key] = {
        label: which === "ms" ? p.label : `${p.label}, ${which === "cpu" ? "CPU time" : which}`,
        median_ms: fig(key),
        samples_ms: samples[key].map(round1),
      };
    }
  }
  const ratios = [
    { id: "import_node", what: "import (Node) ms", value: fig("import_node.ms"), target: "≤ 40 ms" },
    { id: "import_deno", what: "import (Deno) ms", value: fig("import_deno.ms"), target: "≤ 40 ms" },
    { id: "import_node_cpu", what: "import (Node), CPU ms", value: fig("import_node.cpu"), target: "info (less sensitive to load)" },
    { id: "import_deno_cpu", what: "import (Deno): process CPU ms until the import ends (runtime start included)", value: fig("import_deno.cpu"), target: "info" },
    { id: "import_deno_compat", what: "import (Deno) with node:process loaded before, ms", value: fig("import_deno_compat.ms"), target: "info (the Node-compatibility layer's start not counted)" },
    { id: "import_deno_compat_cpu", what: "import (Deno) with node:process loaded before, CPU ms", value: fig("import_deno_compat.cpu"), target: "info" },
    { id: "import_node_noredis", what: "import (Node) without redis, ms", value: fig("import_node_noredis.ms"), target: "info (redis loads on first use: this should match the import)" },
    { id: "import_node_noredis_cpu", what: "import (Node) without redis, CPU ms", value: fig("import_node_noredis.cpu"), target: "info" },
    { id: "oneshot_node_vs_python", what: "one-shot script, Node ÷ CPython", value: paired("oneshot_node.ms", "oneshot_python.ms"), target: "≤ 2" },
    { id: "oneshot_deno_vs_python", what: "one-shot script, Deno ÷ CPython", value: paired("oneshot_deno.ms", "oneshot_python.ms"), target: "≤ 1.5" },
    { id: "oneshot_node_vs_python_cpu", what: "one-shot script, Node ÷ CPython, CPU time", value: paired("oneshot_node.cpu", "oneshot_python.cpu"), target: "info (≤ 2 in wall time)" },
    { id: "oneshot_deno_vs_python_cpu", what: "one-shot script, Deno ÷ CPython, CPU time", value: paired("oneshot_deno.cpu", "oneshot_python.cpu"), target: "info (≤ 1.5 in wall time)" },
    { id: "oneshot_node_vs_bare", what: "one-shot script (Node) ÷ node -e 0", value: paired("oneshot_node.ms", "bare_node.ms"), target: "info" },
    { id: "oneshot_deno_vs_bare", what: "one-shot script (Deno) ÷ deno run empty.js", value: paired("oneshot_deno.ms", "bare_deno.ms"), target: "info" },
    { id: "oneshot_python_vs_bare", what: "one-shot script (CPython) ÷ python3 -c pass", value: paired("oneshot_python.ms", "bare_python.ms"), target: "info" },
    { id: "ready_node_vs_python", what: "new Pool(2) until its first answer, Node ÷ CPython", value: paired("maps_node.ready", "maps_python.ready"), target: "info" },
    { id: "ready_deno_vs_python", what: "new Pool(2) until its first answer, Deno ÷ CPython", value: paired("maps_deno.ready", "maps_python.ready"), target: "info" },
    { id: "first_vs_tenth_node", what: "first map ÷ tenth map (Node)", value: paired("maps_node.first", "maps_node.tenth"), target: "info" },
    { id: "first_vs_tenth_deno", what: "first map ÷ tenth map (Deno)", value: paired("maps_deno.first", "maps_deno.tenth"), target: "info" },
    { id: "first_vs_tenth_python", what: "first map ÷ tenth map (CPython)", value: paired("maps_python.first", "maps_python.tenth"), target: "info" },
    { id: "tenth_node_vs_python", what: "tenth map, Node ÷ CPython", value: paired("maps_node.tenth", "maps_python.tenth"), target: "info (warm map: see the pool bench)" },
    { id: "tenth_deno_vs_python", what: "tenth map, Deno ÷ CPython", value: paired("maps_deno.tenth", "maps_python.tenth"), target: "info (warm map: see the pool bench)" },
  ];
  const version = (cmd: string, args: string[]) => run(cmd, args).out.trim().split("\n")[0];
  const cpu = cpus();
  const env = {
    machine: `${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores, ${osType()} ${release()}`,
    node: process.version,
    deno: version(deno, ["--version"]),
    python: version(PYTHON, ["--version"]),
    load_before: before.map(round2),
    load_after: loadavg().map(round2),
    date: new Date().toISOString(),
    rounds: ROUNDS,
  };
  const md = [
    "# Startup benchmark",
    "",
    `Machine: ${env.machine}. Node ${env.node}; ${env.deno}; ${env.python}. Load average before: ${env.load_before.join(", ")}; ` +
    `after: ${env.load_after.join(", ")}. Date: ${env.date}.`,
    "",
    `${ROUNDS} rounds after one untimed pass; each round samples every figure once, in an order that rotates each round. ` +
    "Figures are medians over rounds; ratios are medians of the per-round ratios (both samples of a ratio come from the same round). " +
    "Figures named CPU time are the process's CPU time (all threads; for whole processes, with the children it reaped: " +
    "the pool's workers), which the load of other processes disturbs less than wall time. " +
    "`import` is measured inside the process (the npm package as published, bundled, on Node; `mod.ts` on Deno); the one-shot script and the bare starts " +
    "as whole processes.",
    "",
    "| figure | median ms | samples (ms) |",
    "| --- | ---: | --- |",
    ...Object.values(figures).map((f) => `| ${f.label} | ${f.median_ms} | ${f.samples_ms.join(", ")} |`),
    "",
    "## Ratios and targets (issue 11)",
    "",
    "| what | value | target |",
    "| --- | ---: | --- |",
    ...ratios.map((r) => `| ${r.what} | ${r.value} | ${r.target} |`),
    "",
  ];
  const out = join(root, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "startup.md"), md.join("\n"));
  writeFileSync(join(out, "startup.json"), JSON.stringify({ env, figures, ratios }, null, 2) + "\n");
  console.log(md.join("\n"));
}

main();
