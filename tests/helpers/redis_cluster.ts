/**
 * Test helper: a private Redis Cluster of 3 masters and 3 replicas on free
 * ports (Debian's `redis-server` with `cluster-enabled yes`, joined by
 * `redis-cli --cluster create`), each node under the watchdog of
 * `redis_server.ts`, so that nothing outlives the test run however it ends.
 *
 * ```ts
 * const cluster = await startRedisCluster();
 * t.after(() => cluster.stop());
 * config.set({ redis: { url: cluster.url } });
 * ```
 *
 * @module
 */
import { type ChildProcess, execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { createClient, createCluster, RESP_TYPES } from "npm:redis@^5.8.0";
import { freePort, spawnServer, type TestRedisServer, waitExit } from "./redis_server.ts";
import { startWatchdog } from "./watchdog.ts";

/** One node of the test cluster. */
export interface TestClusterNode {
  readonly port: number;
  /** The redis-server process (`undefined` once killed). */
  readonly pid: number | undefined;
}

/** A running test cluster; also usable where a {@link TestRedisServer} is expected. */
export interface TestRedisCluster extends TestRedisServer {
  /** `redis+cluster://127.0.0.1:p1,…` (every node a seed). */
  readonly url: string;
  readonly nodes: readonly TestClusterNode[];
  /** The port of the master that now serves `key`'s slot. */
  masterPortOf(key: string): Promise<number>;
  /** The port of a replica of the master on `port`. */
  replicaPortOf(port: number): Promise<number>;
  /** Sends commands in order on one connection to the node on `port` (e.g. `READONLY`, then a read on a replica); resolves the last reply, bulk strings as Buffers. */
  commandOn<T = unknown>(port: number, ...commands: string[][]): Promise<T>;
  /** SIGKILLs the node on `port`. */
  killNode(port: number): Promise<void>;
  /** Waits until every live node reports `cluster_state:ok` and every slot has a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
}

/** How long a master may be unreachable before its replica takes over (the failover test waits for this). */
export const NODE_TIMEOUT_MS = 1000;

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function nodeCommand<T>(port: number, ...commands: string[][]): Promise<T> {
  return await nodeCommands<T>(port, false, commands);
}

async function nodeCommands<T>(port: number, binary: boolean, commands: string[][]): Promise<T> {
  const plain = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false, connectTimeout: 2000 } });
  const c = binary ? plain.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) : plain;
  c.on("error", () => {});
  await c.connect();
  try {
    let reply: unknown;
    for (const args of commands) reply = await c.sendCommand(args);
    return reply as T;
  } finally {
    c.destroy();
  }
}

interface NodeLine {
  id: string;
  port: number;
  flags: string[];
  masterId: string;
  slots: [number, number][];
}

function parseNodes(text: string): NodeLine[] {
  return text.trim().split("\n").map((line) => {
    const f = line.split(" ");
    const slots = f.slice(8).filter((s) => /^\d+(-\d+)?$/.test(s)).map((s) => {
      const [a, b] = s.split("-").map(Number);
      return [a, b ?? a] as [number, number];
    });
    return { id: f[0], port: Number(f[1].split(":")[1].split("@")[0]), flags: f[2].split(","), masterId: f[3], slots };
  });
}

/**
 * Removes the cluster's folder (and kills its nodes, again) when the pipe
 * from this process closes: each node's own watchdog kills it if the test
 * runner is killed, but leaves the folder, which this one removes.
 */
function watchFolder(dir: string, pids: number[]): ChildProcess | undefined {
  return startWatchdog(`kill -9 ${pids.join(" ")} 2>/dev/null; sleep 0.5; rm -rf '${dir}'`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Starts 6 nodes on free ports, makes them a cluster of 3 masters with one
 * replica each (the replica takes over after {@link NODE_TIMEOUT_MS} of
 * its master's silence), and waits until it is healthy.
 *
 * @throws {Error} when redis-server or redis-cli is missing, or the cluster does not form.
 */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "skypool-cluster-"));
  const children = new Map<number, ChildProcess>();
  let dog: ChildProcess | undefined;
  const stopAll = async () => {
    const all = [...children.values()];
    children.clear();
    for (const c of all) c.kill("SIGKILL");
    await Promise.all(all.map(waitExit));
    rmSync(dir, { recursive: true, force: true });
    dog?.kill("SIGKILL");
  };
  const ports: number[] = [];
  try {
    while (ports.length < 6) {
      const port = await freePort();
      if (ports.includes(port)) continue;
      const own = mkdtempSync(join(dir, `n${port}-`));
      try {
        children.set(port, await spawnServer(port, undefined, [
          "--cluster-enabled", "yes",
          "--cluster-config-file", join(own, "nodes.conf"),
          "--cluster-node-timeout", String(NODE_TIMEOUT_MS),
          "--cluster-replica-validity-factor", "0",
          "--dir", own,
        ]));
        ports.push(port);
      } catch {
        // The port was taken between the probe and the bind: take another.
      }
    }
    dog = watchFolder(dir, [...children.values()].map((c) => c.pid!).filter((pid) => pid !== undefined));
    await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "1", "--cluster-yes"]);
  } catch (err) {
    await stopAll();
    throw err;
  }

  const url = `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`;
  const live = () => [...children.keys()];

  async function nodes(): Promise<NodeLine[]> {
    for (const port of live()) {
      try {
        return parseNodes(await nodeCommand<string>(port, ["CLUSTER", "NODES"]));
      } catch {
        // that node is down: ask another
      }
    }
    throw new Error("no node of the test cluster answers");
  }

  async function waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const states = await Promise.all(live().map((p) => nodeCommand<string>(p, ["CLUSTER", "INFO"])));
        const ns = await nodes();
        const covered = ns.filter((n) => n.flags.includes("master") && !n.flags.includes("fail") && children.has(n.port))
          .reduce((sum, n) => sum + n.slots.reduce((s, [a, b]) => s + b - a + 1, 0), 0);
        if (states.every((s) => s.includes("cluster_state:ok")) && covered === 16384) return;
        last = `slots with a live master: ${covered}`;
      } catch (err) {
        last = String(err);
      }
      await sleep(100);
    }
    throw new Error(`the test cluster is not healthy after ${timeoutMs} ms (${last})`);
  }

  try {
    await waitHealthy();
  } catch (err) {
    await stopAll();
    throw err;
  }

  // Routed commands for inspection (TTL of a key, …).
  async function withCluster<T>(fn: (c: ReturnType<typeof createCluster>) => Promise<T>): Promise<T> {
    const c = createCluster({ rootNodes: live().map((p) => ({ url: `redis://127.0.0.1:${p}` })), defaults: { socket: { reconnectStrategy: false } } });
    c.on("error", () => {});
    await c.connect();
    try {
      return await fn(c);
    } finally {
      c.destroy();
    }
  }

  async function scan(pattern: string): Promise<string[]> {
    const masters = (await nodes()).filter((n) => n.flags.includes("master") && !n.flags.includes("fail") && children.has(n.port));
    const out: string[] = [];
    for (const m of masters) {
      let cursor = "0";
      do {
        const [next, keys] = await nodeCommand<[string, string[]]>(m.port, ["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"]);
        cursor = next;
        out.push(...keys);
      } while (cursor !== "0");
    }
    return out;
  }

  const unsupported = (what: string) => () => {
    throw new Error(`${what} is not supported on the test cluster (use killNode)`);
  };

  const cluster: TestRedisCluster = {
    url,
    port: ports[0],
    pid: undefined,
    get nodes() {
      return ports.map((port) => ({ port, pid: children.get(port)?.pid }));
    },
    async masterPortOf(key: string) {
      const slot = await withCluster((c) => c.sendCommand(undefined, false, ["CLUSTER", "KEYSLOT", key])) as number;
      const m = (await nodes()).find((n) => n.flags.includes("master") && !n.flags.includes("fail") && n.slots.some(([a, b]) => slot >= a && slot <= b));
      if (m === undefined) throw new Error(`no master serves slot ${slot}`);
      return m.port;
    },
    async replicaPortOf(port: number) {
      const ns = await nodes();
      const master = ns.find((n) => n.port === port);
      const replica = ns.find((n) => n.masterId === master?.id && children.has(n.port));
      if (replica === undefined) throw new Error(`the node on ${port} has no live replica`);
      return replica.port;
    },
    async killNode(port: number) {
      const c = children.get(port);
      if (c === undefined) return;
      children.delete(port);
      c.kill("SIGKILL");
      await waitExit(c);
    },
    waitHealthy,
    commandOn<T>(port: number, ...commands: string[][]) {
      return nodeCommands<T>(port, true, commands);
    },
    kill: unsupported("kill()"),
    freeze: unsupported("freeze()"),
    thaw: unsupported("thaw()"),
    restart: unsupported("restart()"),
    stop: stopAll,
    command<T>(args: string[]) {
      return withCluster((c) => c.sendCommand(args[1], false, args)) as Promise<T>;
    },
    keys(pattern = "*") {
      return scan(pattern);
    },
    async keysWithoutTtl(pattern = "*") {
      const keys = await scan(pattern);
      return await withCluster(async (c) => {
        const out: string[] = [];
        for (const k of keys) if (Number(await c.sendCommand(k, true, ["TTL", k])) === -1) out.push(k);
        return out;
      });
    },
  };
  return cluster;
}
