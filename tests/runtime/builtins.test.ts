import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as staticFs from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as staticCrypto from "node:crypto";
import * as staticOs from "node:os";
import * as staticPath from "node:path";
import * as staticUrl from "node:url";
import { childProcess, fs, fsPromises, net, nodeCrypto, nodeModule, nodeOs, nodePath, nodeUrl } from "../../src/runtime/builtins.ts";
import { denoBinary } from "../helpers/deno_binary.ts";
import { repoRoot } from "../helpers/repo_root.ts";
import { runProbe } from "../helpers/run_probe.ts";

const probeOutput = async (): Promise<string> => (await runProbe("builtins_probe")).stdout;

interface GraphModule {
  specifier: string;
  dependencies?: { specifier: string; isDynamic?: boolean; code?: { specifier?: string } }[];
}

/** The `node:` built-ins a source entry loads through static imports (type-only and dynamic imports load nothing at import). */
function staticBuiltins(deno: string[], entry: string): Map<string, string[]> {
  const root = fileURLToPath(repoRoot());
  const r = spawnSync(deno[0], [...deno.slice(1), "info", "--json", entry], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const graph = JSON.parse(r.stdout) as { roots: string[]; modules: GraphModule[] };
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const found = new Map<string, string[]>();
  const seen = new Set(graph.roots);
  const queue = [...graph.roots];
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const dep of bySpecifier.get(from)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (dep.isDynamic || target === undefined) continue;
      if (dep.specifier.startsWith("node:")) {
        found.set(dep.specifier, [...found.get(dep.specifier) ?? [], from.slice(from.lastIndexOf("/src/") + 1)]);
      } else if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return found;
}

const deno = denoBinary();
const noDeno = { skip: deno ? false : "no deno binary to run `deno info`" };

test("importing the package looks up no built-in; reading the configuration looks up node:fs", async () => {
  const r = JSON.parse(await probeOutput()) as { atImport: string[]; afterConfig: string[] };
  assert.deepEqual(r.atImport, [], "looked up by the import alone");
  assert.ok(r.afterConfig.includes("node:fs"), `the probe sees lookups: ${JSON.stringify(r.afterConfig)}`);
});

test("mod.ts imports no built-in statically, through any module (the CLI's entry, which does, shows the walk finds them)", noDeno, () => {
  assert.ok(staticBuiltins(deno!, "cli.ts").has("node:process"), "the walk reaches a static node:process import");
  assert.deepEqual(Object.fromEntries(staticBuiltins(deno!, "mod.ts")), {}, "imported statically by");
});

test("a worker's entry imports no built-in statically (Deno's Node-compatibility layer would start before the hello)", noDeno, () => {
  assert.deepEqual([...staticBuiltins(deno!, "src/worker/subprocess_main.ts").keys()], []);
});

test("each accessor returns the runtime's module", async () => {
  assert.equal(fs().readFileSync, staticFs.readFileSync);
  assert.equal(fsPromises().readFile, (await import("node:fs/promises")).readFile);
  assert.equal(nodeModule().createRequire, createRequire);
  assert.equal(net().connect, (await import("node:net")).connect);
  assert.equal(childProcess().spawnSync, spawnSync);
  assert.equal(nodePath().join, staticPath.join);
  assert.equal(nodeUrl().fileURLToPath, staticUrl.fileURLToPath);
  assert.equal(nodeOs().tmpdir, staticOs.tmpdir);
  assert.equal(nodeCrypto().createHash, staticCrypto.createHash);
  assert.equal(nodePath(), nodePath(), "kept after the first lookup");
});

test("the worker proper (worker_loop.ts, what the entry loads next) imports no built-in statically either", noDeno, () => {
  assert.deepEqual([...staticBuiltins(deno!, "src/worker/worker_loop.ts").keys()], []);
});

const onDeno = { skip: "Deno" in globalThis ? false : "Node's globals are free to read" };

test("on Deno, importing the package reads no Node global (the first read starts the Node-compatibility layer)", onDeno, async () => {
  const r = JSON.parse((await runProbe("import_globals_probe")).stdout) as { atImport: string[] };
  assert.deepEqual(r.atImport, []);
});

test("a Deno worker reads no Node global, and arms no Node timer, until it meets a Buffer (each starts part of the Node-compatibility layer)", onDeno, async () => {
  const r = JSON.parse((await runProbe("worker_start_probe")).stdout) as { beforeBuffer: string[]; afterBuffer: string[]; bufferBack: boolean };
  assert.deepEqual(r.beforeBuffer, [], "read on the way to a first result");
  assert.ok(r.bufferBack, "a Buffer round-trips as a Buffer");
});
