/**
 * The private `redis-server` skypool starts when no Redis is configured: it
 * listens only on a unix socket in a fresh temporary folder (no TCP port,
 * no persistence) and is stopped when the program exits — normally, by an
 * uncaught exception, or by SIGINT/SIGTERM — and, through a small sh
 * watchdog, within about a second of the program being killed outright.
 *
 * @module
 */
import type { ChildProcess } from "node:child_process";
import { SkypoolError } from "../errors.ts";
import { childProcess, fs, net, nodeOs, nodePath } from "../runtime/builtins.ts";

/** How long {@link EmbeddedRedisServer.ready} waits for the server to accept connections. */
export const EMBEDDED_START_TIMEOUT_MS = 15_000;

// Runs redis-server under a small sh watchdog that stops it (and removes
// its folder) when skypool's process is gone, however it ended: exit
// hooks cannot run on SIGKILL, and Deno skips Node's `exit` event on an
// uncaught error. SIGTERM to the watchdog stops the server at once.
const WATCHDOG = `
parent=$1; dir=$2; shift 2
"$@" &
server=$!
echo "$server" > "$dir/redis.pid"
stop() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$dir"; exit 0; }
trap stop TERM INT HUP
while kill -0 "$parent" 2>/dev/null && kill -0 "$server" 2>/dev/null; do
  sleep 1 & wait $!
done
stop
`;

/** What to say when `redis-server` cannot be found or started. */
export const INSTALL_HINT =
  "skypool keeps shared state in Redis. Either install redis-server so skypool can start a private one " +
  "(Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`, Alpine: `apk add redis`), " +
  "or point skypool at a running Redis with SKYPOOL_REDIS_URL=redis://host:6379 " +
  "(or `config.set({ redis: { url } })`).";

/**
 * Finds an executable on `PATH` (or checks an explicit path).
 *
 * @param name a bare command name (`"redis-server"`) or a path.
 * @returns the absolute path, or `undefined` when there is none.
 * @example
 * ```ts
 * import { findExecutable } from "./src/state/embedded_server.ts";
 * console.assert(findExecutable("sh") !== undefined);
 * ```
 */
export function findExecutable(name: string): string | undefined {
  const isFile = (p: string) => {
    try {
      return fs().statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes("/")) return isFile(name) ? name : undefined;
  const path = process.env.PATH ?? "";
  for (const dir of path.split(nodePath().delimiter)) {
    if (!dir) continue;
    const candidate = nodePath().join(dir, name);
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

/** Options for {@link EmbeddedRedisServer.start}. */
export interface EmbeddedServerOptions {
  /** The executable to run (default: `redis-server` from `PATH`). */
  executable?: string;
}

/**
 * A `redis-server` child process on a unix socket in a private temporary
 * folder. The spawn itself is synchronous, so {@link url} is known at once;
 * {@link ready} resolves once the server accepts connections.
 *
 * @example
 * ```ts
 * import { EmbeddedRedisServer } from "./src/state/embedded_server.ts";
 * const server = EmbeddedRedisServer.start();
 * await server.ready();
 * console.assert(server.url.startsWith("unix://"));
 * await server.stop();
 * ```
 */
export class EmbeddedRedisServer {
  /** The unix socket the server listens on. */
  readonly socketPath: string;
  /** The temporary folder holding the socket and the log (removed on stop). */
  readonly dir: string;
  /** The URL clients use: `unix://` followed by {@link socketPath}. */
  readonly url: string;
  #child: ChildProcess;
  #exited = false;
  #exitInfo = "";
  #ready?: Promise<void>;
  #exitWaiters: Array<() => void> = [];

  private constructor(executable: string) {
    this.dir = fs().mkdtempSync(nodePath().join(nodeOs().tmpdir(), "skypool-redis-"));
    this.socketPath = nodePath().join(this.dir, "redis.sock");
    this.url = `unix://${this.socketPath}`;
    const args = [
      "--port", "0",
      "--unixsocket", this.socketPath,
      "--unixsocketperm", "700",
      "--save", "",
      "--appendonly", "no",
      "--daemonize", "no",
      "--dir", this.dir,
      "--logfile", nodePath().join(this.dir, "redis.log"),
    ];
    const sh = findExecutable("/bin/sh") ?? findExecutable("sh");
    const { spawn } = childProcess();
    this.#child = sh === undefined
      ? spawn(executable, args, { stdio: "ignore" })
      : spawn(sh, ["-c", WATCHDOG, "skypool-redis", String(process.pid), this.dir, executable, ...args], { stdio: "ignore" });
    this.#child.on("error", (err) => {
      this.#exited = true;
      this.#exitInfo = String(err);
      this.#notifyExit();
    });
    this.#child.on("exit", (code, signal) => {
      this.#exited = true;
      this.#exitInfo = signal ? `killed by ${signal}` : `exit code ${code}`;
      this.#notifyExit();
    });
    // The server must not keep the program alive: it is stopped by the exit hooks.
    this.#child.unref();
  }

  /**
   * Starts a server. The spawn is synchronous; await {@link ready} before use.
   *
   * @throws {SkypoolError} when `redis-server` is not installed (the message
   *   says how to install it or how to point skypool at a Redis).
   */
  static start(options: EmbeddedServerOptions = {}): EmbeddedRedisServer {
    const name = options.executable ?? "redis-server";
    const executable = findExecutable(name);
    if (executable === undefined) {
      throw new SkypoolError(`no Redis is configured and ${name} was not found on PATH. ${INSTALL_HINT}`);
    }
    return new EmbeddedRedisServer(executable);
  }

  /** The process id of the child (the watchdog that runs redis-server). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The process id of redis-server itself (known once it started). */
  get serverPid(): number | undefined {
    try {
      const pid = Number(fs().readFileSync(nodePath().join(this.dir, "redis.pid"), "utf8").trim());
      return pid > 0 ? pid : this.#child.pid;
    } catch {
      return this.#child.pid;
    }
  }

  /** Whether the server process is still running. */
  get running(): boolean {
    return !this.#exited;
  }

  #notifyExit(): void {
    for (const w of this.#exitWaiters.splice(0)) w();
  }

  #log(): string {
    try {
      return fs().readFileSync(nodePath().join(this.dir, "redis.log"), "utf8").trim().split("\n").slice(-5).join("\n");
    } catch {
      return "";
    }
  }

  /**
   * Resolves once the server accepts connections on its socket.
   *
   * @throws {SkypoolError} if the server exits or does not come up within
   *   {@link EMBEDDED_START_TIMEOUT_MS}.
   */
  ready(): Promise<void> {
    this.#ready ??= this.#waitReady();
    return this.#ready;
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + EMBEDDED_START_TIMEOUT_MS;
    let delay = 5;
    // Startup is the one place we retry on a timer: redis-server offers no
    // readiness signal other than its socket accepting connections.
    while (true) {
      if (this.#exited) {
        throw new SkypoolError(
          `the embedded redis-server stopped (${this.#exitInfo}) before accepting connections. ${this.#log()}\n${INSTALL_HINT}`,
        );
      }
      if (fs().existsSync(this.socketPath) && await this.#probe()) return;
      if (Date.now() > deadline) {
        throw new SkypoolError(
          `the embedded redis-server did not accept connections within ${EMBEDDED_START_TIMEOUT_MS} ms. ${this.#log()}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#exitWaiters.push(done);
      });
      delay = Math.min(delay * 2, 100);
    }
  }

  #probe(): Promise<boolean> {
    return new Promise((resolve) => {
      const sock = net().connect(this.socketPath);
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

  /** Kills the server at once and removes its folder (safe to call twice; usable in an `exit` handler). */
  stopSync(): void {
    if (!this.#exited) {
      const server = this.serverPid;
      try {
        // The server first (the watchdog's trap may not get to run before
        // this process is gone), then the watchdog.
        if (server !== undefined && server !== this.#child.pid) process.kill(server, "SIGKILL");
      } catch {
        // already gone
      }
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    try {
      fs().rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // best effort: a temp folder
    }
  }

  /** Stops the server, waits for it to exit, and removes its folder. */
  async stop(): Promise<void> {
    if (!this.#exited) {
      const exited = new Promise<void>((resolve) => this.#exitWaiters.push(resolve));
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    }
    this.stopSync();
  }

  /** Makes `using`/`await using` stop the server. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

let shared: EmbeddedRedisServer | undefined;
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => shared?.stopSync());
  // Deno.exit() skips Node's "exit" event but dispatches "unload".
  (globalThis as { addEventListener?: (type: string, fn: () => void) => void }).addEventListener?.("unload", () => shared?.stopSync());
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = () => {
      shared?.stopSync();
      process.removeListener(signal, onSignal);
      // Someone else handles the signal: leave the decision to exit to them.
      if (process.listenerCount(signal) > 0) return;
      process.kill(process.pid, signal);
    };
    try {
      process.on(signal, onSignal);
    } catch {
      // runtimes without signal support
    }
  }
}

/**
 * The process-wide embedded server, started on first call (synchronously,
 * so its URL is known at once) and stopped when the program exits.
 *
 * @throws {SkypoolError} when `redis-server` is not installed.
 * @example
 * ```ts
 * import { sharedEmbeddedServer } from "./src/state/embedded_server.ts";
 * const server = sharedEmbeddedServer();
 * console.assert(sharedEmbeddedServer() === server);
 * await server.ready();
 * ```
 */
export function sharedEmbeddedServer(): EmbeddedRedisServer {
  if (shared === undefined || !shared.running) {
    shared = EmbeddedRedisServer.start();
    installExitHooks();
  }
  return shared;
}

/** The process-wide embedded server if one was started, else `undefined`. */
export function currentEmbeddedServer(): EmbeddedRedisServer | undefined {
  return shared;
}
