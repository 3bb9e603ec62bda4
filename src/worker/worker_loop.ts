/**
 * The local worker proper, loaded by `subprocess_main.ts` while it connects
 * to the parent. It runs what it is sent, in order: DEFINE loads a function
 * once (cached by index), INIT runs the initializer, TASK / TASK_EACH run a
 * batch, QUIT exits once the queue is empty, RUN (one-shot `Process` mode)
 * runs a target and exits. Results finished in the same tick go back in one
 * packet.
 *
 * @module
 */
import { after, exit, type ParentLink } from "../runtime/worker_host.ts";
import { idsMsg, Kind, type Msg, packet, PacketReader, readIds, readyMsg, resultMsg, Status, statusMsg, text, u32 } from "../transport/wire.ts";
import { type BatchResult, encodeThrown, runBatch, runOnce } from "./run_batch.ts";
import { type FunctionRef, loadFunction } from "../task/function_loader.ts";
import { printableThrown } from "./untrusted.ts";
import { preloadDecoder } from "../task/cbor_decoder.ts";

type Fn = (...args: unknown[]) => unknown;

interface Job {
  cancelled?: boolean;
  kind: number;
  /** A TASK_EACH: one argument per task. */
  each: boolean;
  id: number;
  fnIndex: number;
  payload: Uint8Array;
}

// Loads while the worker connects to its parent and says hello.
const decoderReady = preloadDecoder();
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
/** READY goes out with the first results, or alone after this many ms. */
const READY_FLUSH_MS = 2;

/** READY has not been sent yet: it goes out with the next packet. */
let readyPending = false;

/** Writes what is held back, with READY if it is still due (`withReady`: even alone). */
function flush(withReady = false): void {
  if (outbox.length === 0 && !(withReady && readyPending)) return;
  let frames = outbox;
  if (readyPending) {
    readyPending = false;
    frames = [...readyMsg(), ...frames];
  }
  outbox = [];
  outboxSince = -1;
  link.write(packet(frames));
}

function send(msg: Msg): void {
  if (outboxSince < 0) outboxSince = performance.now();
  outbox.push(msg[0], msg[1]);
}

function define(index: number, refJson: string): void {
  const ref = JSON.parse(refJson) as FunctionRef;
  // The batches decode their arguments: the fast decoder (loading since this module did) must be in.
  const p = Promise.all([loadFunction(ref), decoderReady]).then(([fn]) => {
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
    console.error(printableThrown(lastThrown));
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
  const r = await runBatch(fn, job.payload, job.each);
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
        let r = runBatch(fn, job.payload, job.each);
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

function onFrames(frames: Uint8Array[]): void {
  for (let i = 0; i + 1 < frames.length; i += 2) {
    const m = frames[i];
    const payload = frames[i + 1];
    switch (m[0]) {
      case Kind.DEFINE:
        define(u32(m, 1), text(payload));
        break;
      case Kind.TASK:
      case Kind.TASK_EACH:
        queue.push({ kind: Kind.TASK, each: m[0] === Kind.TASK_EACH, id: u32(m, 1), fnIndex: u32(m, 5), payload });
        break;
      case Kind.INIT:
      case Kind.RUN:
        queue.push({ kind: m[0], each: false, id: 0, fnIndex: u32(m, 1), payload });
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

/**
 * Runs the worker over `parent`, a connection that has already carried the
 * handshake. Returns the function that takes every chunk read from it.
 */
export function startWorker(parent: ParentLink): (chunk: Uint8Array) => void {
  link = parent;
  const reader = new PacketReader(onFrames, (err) => {
    console.error(`skypool worker: ${err.message}`);
    exit(70);
  });
  // Tells the parent it may start more workers (see local.ts, start-up).
  // It leaves with the first results when tasks are already waiting (in
  // the socket, not read yet: Deno reads them on a later turn). A write of
  // its own just before them would delay them: a second write waits for
  // the first to complete.
  readyPending = true;
  after(READY_FLUSH_MS, () => flush(true));
  return (chunk) => reader.push(chunk);
}
