/**
 * Entry point of a local worker process:
 * `subprocess_main <socketPath> <token>`.
 *
 * It connects back to the parent's unix socket (stdout and stderr stay the
 * user's), says HELLO, then runs what it is sent, in order: DEFINE loads a
 * function once (cached by index), INIT runs the initializer, TASK runs a
 * batch, QUIT exits once the queue is empty, RUN (one-shot `Process` mode)
 * runs a target and exits. Results finished in the same tick go back in one
 * packet. The import graph is kept small: start-up time is the pool's.
 *
 * @module
 */
import { connectToParent, exit, type ParentLink, pid } from "../runtime/worker_host.ts";
import { helloMsg, idsMsg, Kind, readIds, packet, PacketReader, resultMsg, Status, statusMsg, text, u32 } from "../transport/wire.ts";
import { encodeThrown, runBatch, runOnce, type BatchResult } from "./run_batch.ts";
import { type FunctionRef, loadFunction } from "../task/function_loader.ts";

type Fn = (...args: unknown[]) => unknown;

interface Job {
  cancelled?: boolean;
  kind: number;
  id: number;
  fnIndex: number;
  payload: Uint8Array;
}

const [socketPath, token] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  process.argv.slice(2);

const loaded = new Map<number, Fn>();
const loading = new Map<number, Promise<Fn>>();
const queue: Job[] = [];
let head = 0;
let quitting = false;
let running = false;
let outbox: Uint8Array[] = [];
/** Start of the oldest held-back work, or -1 when nothing is held. */
let outboxSince = -1;
let link: ParentLink;

/**
 * Results are held back to share one write only while the work behind them
 * is this young (ms, counted from the start of the first held task): a
 * burst of tiny tasks answers in one packet, a real chunk answers at once.
 */
const FLUSH_AFTER_MS = 0.5;

function flush(): void {
  if (outbox.length === 0) return;
  const [len, body] = packet(outbox);
  outbox = [];
  outboxSince = -1;
  link.write(len);
  link.write(body);
}

function send(msg: Uint8Array): void {
  if (outboxSince < 0) outboxSince = performance.now();
  outbox.push(msg);
}

function define(index: number, refJson: string): void {
  const ref = JSON.parse(refJson) as FunctionRef;
  const p = loadFunction(ref).then((fn) => {
    if (typeof fn !== "function") {
      throw new TypeError(
        ref.kind === "module" ? `export ${JSON.stringify(ref.exportName)} of ${ref.url} is not a function` : "shipped source is not a function",
      );
    }
    loaded.set(index, fn);
    return fn;
  });
  p.catch(() => {});
  loading.set(index, p);
}

async function fnFor(index: number): Promise<Fn> {
  const p = loading.get(index);
  if (!p) throw new Error(`worker protocol error: function ${index} was never defined`);
  return await p;
}

async function finishProcess(result: BatchResult): Promise<never> {
  if (result.status !== Status.OK) {
    // As CPython's child does, print the error to this process's stderr.
    const err = lastThrown;
    console.error(err instanceof Error ? (err.stack ?? String(err)) : `Uncaught ${String(err)}`);
  }
  send(statusMsg(Kind.DONE, result.status, result.payload));
  flush();
  await link.flush();
  exit(result.status === Status.OK ? 0 : 1);
}

let lastThrown: unknown;

function capturing(fn: Fn): Fn {
  return async (...args: unknown[]) => {
    try {
      return await fn(...args);
    } catch (err) {
      lastThrown = err;
      throw err;
    }
  };
}

async function runAsyncJob(job: Job): Promise<void> {
  let fn: Fn;
  try {
    fn = await fnFor(job.fnIndex);
  } catch (err) {
    const failed = encodeThrown(err);
    if (job.kind === Kind.TASK) send(resultMsg(job.id, failed.status, 0, failed.payload));
    else if (job.kind === Kind.INIT) await initFailed(failed);
    else {
      lastThrown = err;
      await finishProcess(failed);
    }
    return;
  }
  if (job.kind === Kind.INIT) {
    const r = await runOnce(fn, job.payload);
    if (r.status !== Status.OK) await initFailed(r);
    return;
  }
  if (job.kind === Kind.RUN) {
    await finishProcess(await runOnce(capturing(fn), job.payload));
    return;
  }
  const t0 = performance.now();
  const r = await runBatch(fn, job.payload);
  send(resultMsg(job.id, r.status, performance.now() - t0, r.payload));
}

async function initFailed(r: BatchResult): Promise<never> {
  send(statusMsg(Kind.INIT_FAILED, r.status, r.payload));
  flush();
  await link.flush();
  exit(1);
}

/** Runs queued jobs in order; synchronous tasks never await. */
async function drain(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (head < queue.length) {
      const job = queue[head];
      queue[head++] = undefined as unknown as Job;
      if (job.cancelled) continue;
      const fn = job.kind === Kind.TASK ? loaded.get(job.fnIndex) : undefined;
      if (fn !== undefined) {
        const t0 = performance.now();
        if (outboxSince < 0) outboxSince = t0;
        let r = runBatch(fn, job.payload);
        if (r instanceof Promise) {
          flush();
          r = await r;
        }
        send(resultMsg(job.id, r.status, performance.now() - t0, r.payload));
      } else {
        flush();
        await runAsyncJob(job);
      }
      if (outbox.length > 0 && performance.now() - outboxSince >= FLUSH_AFTER_MS) flush();
    }
    queue.length = 0;
    head = 0;
    flush();
    if (quitting) {
      await link.flush();
      exit(0);
    }
  } finally {
    running = false;
  }
}

function onMessages(messages: Uint8Array[]): void {
  for (const m of messages) {
    switch (m[0]) {
      case Kind.DEFINE:
        define(u32(m, 1), text(m, 5));
        break;
      case Kind.TASK:
        queue.push({ kind: Kind.TASK, id: u32(m, 1), fnIndex: u32(m, 5), payload: m.subarray(9) });
        break;
      case Kind.INIT:
      case Kind.RUN:
        queue.push({ kind: m[0], id: 0, fnIndex: u32(m, 1), payload: m.subarray(5) });
        break;
      case Kind.QUIT:
        quitting = true;
        break;
      case Kind.CANCEL: {
        // The parent wants back tasks that have not started, to give them
        // to an idle worker; the one running (or done) stays ours.
        const wanted = new Set(readIds(m));
        const given: number[] = [];
        for (let i = head; i < queue.length; i++) {
          const job = queue[i];
          if (job.kind === Kind.TASK && !job.cancelled && wanted.has(job.id)) {
            job.cancelled = true;
            given.push(job.id);
          }
        }
        if (given.length > 0) {
          send(idsMsg(Kind.CANCELLED, given));
          flush();
        }
        break;
      }
    }
  }
  drain();
}

if (!socketPath || !token) {
  console.error("skypool worker: usage: subprocess_main <socketPath> <token>");
  exit(2);
}
const reader = new PacketReader(onMessages);
link = await connectToParent(socketPath, (chunk) => reader.push(chunk), () => {
  // The parent is gone (closed, crashed or killed): nothing left to work for.
  exit(0);
});
send(helloMsg(pid(), token));
flush();
