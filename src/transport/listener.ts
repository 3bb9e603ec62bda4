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
import { fs, net, nodeOs, nodePath } from "../runtime/builtins.ts";
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
/** Workers started and not yet gone: the socket lives while there are any. */
let users = 0;
let exitHook = false;
const waiting = new Map<string, (conn: Connection) => void>();
let nextToken = 1;

function shortTmp(): string {
  // A unix socket path must stay under ~100 bytes.
  const t = nodeOs().tmpdir();
  return t.length > 60 ? "/tmp" : t;
}

/** The folder again at its old path (private, so it must not exist yet), or a new one. */
function makeDir(): string {
  if (dir !== "") {
    try {
      fs().mkdirSync(dir, { mode: 0o700 });
      return dir;
    } catch {
      // taken meanwhile: not ours to use
    }
  }
  return fs().mkdtempSync(nodePath().join(shortTmp(), "skypool-"));
}

function ensureServer(): string {
  if (server) return socketPath;
  dir = makeDir();
  socketPath = nodePath().join(dir, "w.sock");
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
  return socketPath;
}

function removeDir(): void {
  try {
    fs().rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

function release(): void {
  if (--users > 0 || !server) return;
  server.close();
  server = undefined;
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
 * `release` says the worker is gone for good (exited, connection closed):
 * the socket is closed and removed when no worker is left.
 */
export function expectWorker(
  onConnect: (conn: Connection) => void,
): { path: string; token: string; cancel: () => void; release: () => void } {
  const path = ensureServer();
  users++;
  const token = `${process.pid}.${nextToken++}.${Math.random().toString(36).slice(2, 10)}`;
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
