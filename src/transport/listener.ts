/**
 * The unix-domain socket that local worker processes connect back to. One
 * per program, created when a worker is started in a private temp
 * directory, and closed and removed when the last worker is gone (also at
 * exit, or by the reaper when the program ends without running exit code:
 * `deno test` runs no exit handlers, for one). A later worker makes it again,
 * at the same path, so the reaper's folder stays the one to remove.
 * A worker's first bytes are its handshake, with the token it was started
 * with; the listener hands the connection to whoever registered that token.
 * The server never keeps the program alive by itself.
 *
 * @module
 */
import type { Server, Socket } from "node:net";
import { fs, net } from "../runtime/builtins.ts";
import { makePrivateDir, makeTempDir, pid, tempDir } from "../runtime/host.ts";
import { HelloReader } from "./handshake.ts";
import { PacketReader } from "./wire.ts";
import { startReaper } from "./reaper.ts";

/** What a registration receives once its worker has sent its handshake. */
export interface Connection {
  socket: Socket;
  pid: number;
  /** Set by the receiver: gets the frames (`[head, body, …]`) of every packet from this worker. */
  onMessages: (frames: Uint8Array[]) => void;
}

let server: Server | undefined;
let socketPath = "";
let dir = "";
/** Whether `dir` exists now (made for the workers up or about to start). */
let reserved = false;
/** Workers started and not yet gone: the socket lives while there are any. */
let users = 0;
let exitHook = false;
const waiting = new Map<string, (conn: Connection) => void>();
let nextToken = 1;

function shortTmp(): string {
  // A unix socket path must stay under ~100 bytes.
  const t = tempDir();
  return t.length > 60 ? "/tmp" : t;
}

/** The folder again at its old path (private, so it must not exist yet), or a new one. */
function makeDir(): string {
  if (dir !== "") {
    try {
      makePrivateDir(dir);
      return dir;
    } catch {
      // taken meanwhile: not ours to use
    }
  }
  return makeTempDir(shortTmp(), "skypool-");
}

/** The socket's path, its folder made (with host.ts, so natively on Deno); the server may not listen yet. */
function reservePath(): string {
  if (reserved) return socketPath;
  dir = makeDir();
  socketPath = `${dir}/w.sock`;
  reserved = true;
  return socketPath;
}

/**
 * Listens on the path {@link expectWorker} gave out, if not yet. Called
 * right after a worker is spawned, not before: on Deno, `node:net` (with
 * the Node-compatibility layer it starts) costs tens of ms, which the
 * worker's own start then overlaps. The worker retries its connection
 * until the socket is there (`connectToParent`).
 */
export function listenForWorkers(): void {
  if (server || !reserved) return;
  server = net().createServer({ noDelay: true } as never, accept);
  server.on("error", (err) => {
    console.error(`skypool: worker listener failed: ${err.message}`);
  });
  server.listen(socketPath);
  server.unref();
  if (!exitHook) {
    exitHook = true;
    process.once("exit", removeDir);
  }
}

function removeDir(): void {
  try {
    fs().rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

function release(): void {
  if (--users > 0 || !reserved) return;
  server?.close();
  server = undefined;
  reserved = false;
  removeDir();
}

function accept(socket: Socket): void {
  socket.unref();
  let conn: Connection | undefined;
  const hello = new HelloReader();
  // A corrupted stream drops the connection: its owner sees it close, as
  // if the worker had gone away, and the worker's tasks fail as lost.
  const reader = new PacketReader((frames) => conn!.onMessages(frames), (err) => {
    console.error(`skypool: worker ${conn!.pid}: ${err.message}`);
    socket.destroy();
  });
  socket.on("data", (chunk: Uint8Array) => {
    if (conn) return reader.push(chunk);
    let h;
    try {
      h = hello.push(chunk);
    } catch {
      return void socket.destroy(); // not a worker of ours
    }
    if (!h) return;
    const claim = waiting.get(h.token);
    if (!claim) return void socket.destroy();
    waiting.delete(h.token);
    conn = { socket, pid: h.pid, onMessages: () => {} };
    claim(conn);
    // After an exit that runs no code (a signal), the reaper removes the
    // folder. It starts once a first worker is in (and a little later):
    // starting it sooner slowed the first workers' start.
    startReaper(dir);
    reader.push(h.rest);
  });
  socket.on("error", () => {
    // 'close' follows; the owner treats it as the worker going away
  });
}

/**
 * Reserves a token for a worker about to be started. Returns the socket
 * path and token to pass to it; `onConnect` runs when it has said who it is.
 * Start the worker, then call {@link listenForWorkers}.
 * `release` says the worker is gone for good (exited, connection closed):
 * the socket is closed and removed when no worker is left.
 */
export function expectWorker(
  onConnect: (conn: Connection) => void,
): { path: string; token: string; cancel: () => void; release: () => void } {
  const path = reservePath();
  users++;
  const token = `${pid()}.${nextToken++}.${Math.random().toString(36).slice(2, 10)}`;
  waiting.set(token, onConnect);
  let released = false;
  return {
    path,
    token,
    cancel: () => waiting.delete(token),
    release: () => {
      if (released) return;
      released = true;
      waiting.delete(token);
      release();
    },
  };
}
