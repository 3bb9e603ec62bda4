/**
 * Entry point of a local worker process:
 * `subprocess_main <socketPath> <token> <parentPid>`.
 *
 * Start-up time is the pool's, so this file imports almost nothing: it
 * starts loading the worker proper (`worker_loop.ts`, with the codec and
 * the WebAssembly core) in the background, connects back to the parent's
 * unix socket meanwhile and sends its handshake at once. The parent then
 * sends the first tasks while the worker is still loading; they wait in
 * memory until it is ready. stdout and stderr stay the user's, so a worker
 * started just as its parent ended (its socket already removed) leaves
 * silently.
 *
 * @module
 */
import { connectToParent, exit, isDeno, pid, ppid, removeSocket, watchParent } from "../runtime/worker_host.ts";
import { helloBytes } from "../transport/handshake.ts";

const [socketPath, token, parentPid] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  process.argv.slice(2);

if (!socketPath || !token || !/^\d+$/.test(parentPid ?? "")) {
  console.error("skypool worker: usage: subprocess_main <socketPath> <token> <parentPid>");
  exit(2);
}

// Node loads modules asynchronously: start loading first, connect meanwhile.
// Deno's dynamic import holds up the event loop until loaded, so a connect
// started with it completes only after it: connect first there.
let loading: Promise<typeof import("./worker_loop.ts")> | undefined;
if (!isDeno) {
  loading = import("./worker_loop.ts");
  // A failed load is reported where it is awaited, below.
  loading.catch(() => {});
}
const early: Uint8Array[] = [];
let onData = (chunk: Uint8Array): void => void early.push(chunk);
/** How often an idle worker checks that its parent lives (ms). */
const PARENT_CHECK_MS = 1000;

/**
 * Whether the parent has died, given a moment: its open files close before
 * its children are handed to a new parent, so the socket can close or
 * refuse while our parent id is still the dying parent's.
 */
async function parentGone(): Promise<boolean> {
  for (let i = 0; i < 25 && ppid() === Number(parentPid); i++) await new Promise((r) => setTimeout(r, 20));
  return ppid() !== Number(parentPid);
}
const link = await connectToParent(socketPath, (chunk) => onData(chunk), async () => {
  // The parent is gone (closed, crashed or killed): nothing left to work for,
  // and, if it died without cleaning up, its socket to remove.
  if (await parentGone()) removeSocket(socketPath);
  exit(0);
}).catch(async (err: Error) => {
  // Nobody is left to tell when the parent has gone; otherwise say why.
  if (await parentGone()) {
    removeSocket(socketPath);
    return exit(0);
  }
  console.error(`skypool worker: cannot connect to ${socketPath}: ${err.message}`);
  return exit(1);
});
link.write(helloBytes(pid(), token));
// A connection the parent had not accepted yet when it died is never
// closed: the socket alone would keep this worker waiting forever.
watchParent(Number(parentPid), PARENT_CHECK_MS, () => {
  removeSocket(socketPath);
  exit(0);
});
const { startWorker } = await (loading ?? import("./worker_loop.ts"));
onData = startWorker(link);
for (const chunk of early.splice(0)) onData(chunk);
