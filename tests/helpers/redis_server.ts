/**
 * Test helper: a private `redis-server` on a free TCP port (in memory, or
 * durable: an append-only file fsynced on every write), which tests start,
 * kill, restart on the same port, freeze and thaw (SIGSTOP/SIGCONT), and
 * scan for keys without a TTL.
 *
 * ```ts
 * const server = await startRedisServer();
 * t.after(() => server.stop());
 * config.set({ redis: { url: server.url } });
 * ```
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, connect } from "node:net";
import process from "node:process";
import { createClient } from "npm:redis@^5.8.0";
import { startWatchdog } from "./watchdog.ts";

/** A running test server. */
export interface TestRedisServer {
  /** `redis://127.0.0.1:{port}`. */
  readonly url: string;
  /** The TCP port (kept across {@link restart}). */
  readonly port: number;
  /** The server's pid (changes on restart). */
  readonly pid: number | undefined;
  /** SIGKILLs the server and waits for it to exit (an in-memory server loses its data). */
  kill(): Promise<void>;
  /** Stops the server process (SIGSTOP): connections stay open, nothing is answered. */
  freeze(): void;
  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void;
  /** Starts the server again on the same port (after {@link kill}). */
  restart(): Promise<void>;
  /** Stops the server for good (idempotent). */
  stop(): Promise<void>;
  /** Sends one command with a fresh short-lived client (inspection in tests). */
  command<T = unknown>(args: string[]): Promise<T>;
  /** Keys matching `pattern` (default `*`) whose TTL is -1 (no expiry). */
  keysWithoutTtl(pattern?: string): Promise<string[]>;
  /** Every key matching `pattern` (default `*`). */
  keys(pattern?: string): Promise<string[]>;
}

/** Finds a TCP port that is free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => {
      sock.destroy();
      resolve(false);
    });
  });
}

const live = new Set<ChildProcess>();
let hook = false;

/**
 * SIGKILLs the server once this process is gone, however it ends (see
 * ./watchdog.ts): the `exit` hook below does not run when the test runner
 * itself is killed.
 */
function watch(server: ChildProcess): ChildProcess | undefined {
  return server.pid === undefined ? undefined : startWatchdog(`kill -9 ${server.pid} 2>/dev/null`);
}

/**
 * Spawns `redis-server` on `port` (in memory, or with an AOF in `dir`;
 * `extra` arguments last) under the watchdog, and waits until it accepts
 * connections. @throws {Error} when it exits or does not come up.
 */
export function spawnServer(port: number, dir: string | undefined, extra: readonly string[] = []): Promise<ChildProcess> {
  const persistence = dir === undefined
    ? ["--appendonly", "no"]
    : ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir];
  const child = spawn("redis-server", [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--save", "",
    ...persistence,
    "--daemonize", "no",
    "--loglevel", "warning",
    ...extra,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  live.add(child);
  const watchdog = watch(child);
  if (!hook) {
    hook = true;
    process.on("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += d));
  let exited = false;
  child.once("exit", () => {
    exited = true;
    live.delete(child);
    watchdog?.kill("SIGKILL");
  });
  return new Promise((resolve, reject) => {
    child.once("error", (err) => reject(new Error(`cannot start redis-server (is it installed?): ${err}`)));
    const deadline = Date.now() + 10_000;
    const check = async () => {
      if (exited) return reject(new Error(`redis-server on port ${port} exited: ${stderr}`));
      if (await probe(port)) return resolve(child);
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        return reject(new Error(`redis-server on port ${port} did not start: ${stderr}`));
      }
      setTimeout(check, 20);
    };
    check();
  });
}

/** Resolves when `child` has exited. */
export function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts a `redis-server` on a free port (or on `port`); `durable` keeps
 * every acknowledged write on disk (AOF, fsync always) across restarts.
 *
 * @throws {Error} when redis-server is missing or does not come up.
 */
export async function startRedisServer(options: { port?: number; durable?: boolean } = {}): Promise<TestRedisServer> {
  let port = options.port ?? await freePort();
  const dir = options.durable ? mkdtempSync(join(tmpdir(), "skypool-aof-")) : undefined;
  let child: ChildProcess | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      child = await spawnServer(port, dir);
      break;
    } catch (err) {
      // Another process may have taken the port between probe and bind.
      if (options.port !== undefined || attempt >= 3) throw err;
      port = await freePort();
    }
  }
  const url = `redis://127.0.0.1:${port}`;

  async function withClient<T>(fn: (c: { sendCommand<R>(args: string[]): Promise<R> }) => Promise<T>): Promise<T> {
    const client = createClient({ url, socket: { reconnectStrategy: false } });
    client.on("error", () => {});
    await client.connect();
    try {
      return await fn(client as unknown as { sendCommand<R>(args: string[]): Promise<R> });
    } finally {
      client.destroy();
    }
  }

  async function scan(pattern: string): Promise<string[]> {
    return await withClient(async (c) => {
      const out: string[] = [];
      let cursor = "0";
      do {
        const [next, keys] = await c.sendCommand<[string, string[]]>(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"]);
        cursor = next;
        out.push(...keys);
      } while (cursor !== "0");
      return out;
    });
  }

  const server: TestRedisServer = {
    url,
    port,
    get pid() {
      return child?.pid;
    },
    async kill() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill("SIGKILL");
      await waitExit(c);
    },
    freeze() {
      if (child?.pid) process.kill(child.pid, "SIGSTOP");
    },
    thaw() {
      if (child?.pid) process.kill(child.pid, "SIGCONT");
    },
    async restart() {
      if (child) throw new Error("restart() needs kill() first");
      child = await spawnServer(port, dir);
    },
    async stop() {
      await server.kill();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
    command<T>(args: string[]) {
      return withClient((c) => c.sendCommand<T>(args));
    },
    async keys(pattern = "*") {
      return await scan(pattern);
    },
    async keysWithoutTtl(pattern = "*") {
      const keys = await scan(pattern);
      return await withClient(async (c) => {
        const out: string[] = [];
        for (const k of keys) if ((await c.sendCommand<number>(["TTL", k])) === -1) out.push(k);
        return out;
      });
    },
  };
  return server;
}
