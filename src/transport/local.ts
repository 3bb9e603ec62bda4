/**
 * The `local` transport: N worker processes of the same runtime on this
 * machine, fed from one shared FIFO queue as CPython's Pool is.
 *
 * Scheduling. A queued batch goes to an idle worker first. A busy worker
 * may get more only when the run time of what it already holds is known
 * (an EWMA of the run time per task that workers report, per function),
 * predicted to finish within {@link PIPELINE_BUDGET_MS}, and not overdue.
 * So a queued batch waits behind at most about 2 ms of predicted work while
 * another worker could have taken it, and streams of tiny tasks or map
 * chunks keep every worker busy without a round-trip gap between them.
 * When a prediction proves wrong (the same function, quick before, slow
 * now), batches queued behind the overdue one are taken back (CANCEL) as
 * soon as another worker is idle. Everything dispatched to one
 * worker in the same tick travels in one packet, and a function's source is
 * sent once per worker.
 *
 * Failure. A worker that exits or is killed fails its unfinished batches
 * with `WorkerLostError` (naming the worker, its pid and the exit code or
 * signal) and is replaced. An initializer that throws breaks the transport:
 * CPython would respawn workers forever and hang the tasks; here every
 * unfinished and later batch fails with a `WorkerLostError` whose `cause`
 * is the initializer's error. Three workers in a row that never connect
 * break it the same way.
 *
 * Idle workers do not keep the program alive: processes and sockets are
 * unreferenced whenever nothing is queued or running.
 *
 * @module
 */
import { StateError, WorkerLostError } from "../errors.ts";
import { decode } from "../task/codec.ts";
import { logger } from "../log.ts";
import type { BatchOutcome, StopBatch, TaskBatch, Transport, WorkerSetup, WorkerStats } from "./transport.ts";
import { defineMsg, f64, idsMsg, initMsg, Kind, type Msg, quitMsg, readIds, Status, taskMsg, text, u32 } from "./wire.ts";
import { describeExit, type WorkerExit, WorkerProcess } from "./worker_process.ts";
import { nodeOs } from "../runtime/builtins.ts";

/** How much predicted work (ms) a busy worker may hold before it gets more. */
export const PIPELINE_BUDGET_MS = 2;
/** A worker whose oldest batch is this much (ms) past its prediction gets nothing more. */
const OVERDUE_MS = 2;
/** Hard cap on batches sent to one worker and not yet answered. */
const MAX_OUTSTANDING = 1024;
/** Workers that die before connecting, in a row, before the transport gives up. */
const MAX_START_FAILURES = 3;
/** Weight of the newest sample in the run-time average. */
const EWMA_WEIGHT = 0.3;

const log = logger("skypool:worker");

/**
 * Start-up. Starting a process is CPU-bound (a Node worker needs about
 * 100 ms of CPU to boot and load the codec), so starting more at once than
 * there are spare cores slows each of them, the first included: on 2 cores,
 * `new Pool(2)` answered its first `apply` in about 2.5× a bare `node -e 0`
 * with both workers started together, 1.7× with one first. So a first wave
 * of half the CPUs (at least one) starts at once; the rest start as soon as
 * one of the first wave is ready (it has loaded the codec and can run
 * tasks) and has answered the tasks it already held (or
 * {@link DEFER_BUSY_MS} after it was ready), after {@link DEFER_MAX_MS} at
 * the latest, or when one of the first wave exits. Total start-up work is
 * the same; the first results come sooner.
 */
function firstWave(): number {
  return Math.max(1, Math.floor(defaultProcesses() / 2));
}

/** The latest the second wave of workers starts (ms after the first). */
const DEFER_MAX_MS = 1000;
/** The latest it starts after a first-wave worker is ready but busy. */
const DEFER_BUSY_MS = 5;

/** The number of CPUs this program may use. */
export function defaultProcesses(): number {
  try {
    return nodeOs().availableParallelism();
  } catch {
    return Math.max(1, nodeOs().cpus().length);
  }
}

interface Pending {
  id: number;
  batch: TaskBatch;
  fnIndex: number;
  done: (outcome: BatchOutcome) => void;
  est: number;
  sentAt: number;
  /** A CANCEL was sent for it (it may still run). */
  reclaiming?: boolean;
  /** Stopped by its owner: whatever the worker still says of it is ignored. */
  stopped?: boolean;
  /** Tells the owner a worker started it; cleared once called. */
  started?: () => void;
}

class Slot {
  pid: number | undefined;
  connected = false;
  outstanding = new Map<number, Pending>();
  predicted = 0;
  /** Outstanding batches whose function had no run-time estimate yet. */
  unknown = 0;
  assigned = 0;
  retiring = false;
  killed = false;
  defined = new Set<number>();
  proc!: WorkerProcess;
  constructor(readonly num: number) {}
  label(): string {
    return `worker ${this.num}${this.pid !== undefined ? ` (pid ${this.pid})` : ""}`;
  }
}

/** Options of {@link LocalTransport}. */
export interface LocalTransportOptions {
  /** How many worker processes (default: the number of CPUs). */
  processes?: number;
}

/**
 * Runs batches in local worker processes.
 *
 * @example
 * ```ts
 * import { LocalTransport } from "./src/transport/local.ts";
 * import { encode, decode } from "./src/task/codec.ts";
 * import { shipFunction } from "./src/task/function_ref.ts";
 * const t = new LocalTransport({ processes: 1 });
 * t.start({});
 * const outcome = await new Promise((done) =>
 *   t.submit({ fn: shipFunction((x: number) => x + 1), payload: encode([[41]]), count: 1 }, done));
 * console.assert((decode((outcome as { payload: Uint8Array }).payload) as number[])[0] === 42);
 * await t.close();
 * ```
 */
export class LocalTransport implements Transport {
  readonly kind = "remote" as const;
  readonly name = "local";
  readonly size: number;
  /** A batch starts when it is first in its worker's line (workers run theirs in order). */
  readonly reportsStart = true;
  #setup: WorkerSetup = {};
  #started = false;
  #slots: Slot[] = [];
  #nextSlot = 1;
  #queue: Pending[] = [];
  #qHead = 0;
  #pending = 0;
  #nextId = 1;
  #fnIndex = new Map<string, number>();
  #fnJson: string[] = [];
  #ewma: number[] = [];
  #state: "running" | "closing" | "terminated" = "running";
  #broken: Error | undefined;
  #startFailures = 0;
  #initIndex = -1;
  #allExited: Promise<void> | undefined;
  #resolveAllExited: (() => void) | undefined;
  #refed = false;
  #reclaimTimer: ReturnType<typeof setTimeout> | undefined;
  #definesSent = 0;
  #workersStarted = 0;
  #workersReady = 0;
  /** Workers not started yet: they start once a first one is ready. */
  #deferred = 0;
  #deferTimer: ReturnType<typeof setTimeout> | undefined;
  #deferAt = Infinity;
  /** A first-wave worker said READY: the rest start after its first result. */
  #firstReady = false;

  /** @throws {RangeError} when `processes` is not a positive integer. */
  constructor(options: LocalTransportOptions = {}) {
    const n = options.processes ?? defaultProcesses();
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`processes must be a positive integer, got ${n}`);
    this.size = n;
  }

  /** Starts the workers, in waves (see {@link firstWave}). @throws {StateError} when called twice. */
  start(setup: WorkerSetup): void {
    if (this.#started) throw new StateError("transport already started");
    this.#started = true;
    this.#setup = setup;
    if (setup.initializer) this.#initIndex = this.#indexOf(setup.initializer.fn);
    const first = Math.min(this.size, firstWave());
    this.#deferred = this.size - first;
    for (let i = 0; i < first; i++) this.#spawn();
    this.#spawnDeferred(DEFER_MAX_MS);
  }

  /**
   * Starts the workers held back from the first wave, after `ms`. Starting
   * a process blocks this thread for a few ms, so it waits for a macrotask
   * of its own: results that arrived with the READY are delivered first.
   */
  #spawnDeferred(ms = 0): void {
    if (this.#deferred === 0) return;
    if (this.#deferAt <= performance.now() + ms) return;
    this.#deferAt = performance.now() + ms;
    clearTimeout(this.#deferTimer);
    this.#deferTimer = setTimeout(() => {
      const n = this.#deferred;
      this.#deferred = 0;
      if (this.#state === "terminated" || this.#broken || (this.#state === "closing" && this.#pending === 0)) return;
      for (let i = 0; i < n; i++) this.#spawn();
    }, ms);
    (this.#deferTimer as { unref?: () => void }).unref?.();
  }

  /** Counters for tests and diagnostics: function definitions sent, worker processes started, workers that said READY. */
  get stats(): { definesSent: number; workersStarted: number; workersReady: number } {
    return { definesSent: this.#definesSent, workersStarted: this.#workersStarted, workersReady: this.#workersReady };
  }

  /** Worker processes not yet exited (connected or starting), and replacements started. */
  workerStats(): WorkerStats {
    return { alive: this.#slots.length, replaced: Math.max(0, this.#workersStarted + this.#deferred - this.size) };
  }

  /** Process ids of the live workers (those that connected). */
  get pids(): number[] {
    return this.#slots.filter((s) => s.pid !== undefined && !s.killed).map((s) => s.pid!);
  }

  submit(batch: TaskBatch, done: (outcome: BatchOutcome) => void, started?: () => void): StopBatch | void {
    if (!this.#started) this.start({});
    if (this.#state === "terminated" || this.#broken) {
      const error = this.#broken ?? new StateError("transport terminated");
      queueMicrotask(() => done({ status: "lost", error }));
      return;
    }
    const fnIndex = this.#indexOf(batch.fn);
    const p: Pending = { id: 0, batch, fnIndex, done, est: 0, sentAt: 0, started };
    this.#queue.push(p);
    this.#changePending(1);
    this.#dispatch();
    return (error) => this.#stop(p, error);
  }

  /**
   * Ends `p` now. Queued here: dropped. Pipelined behind another batch on
   * a worker: taken back (CANCEL), its result ignored if it ran anyway.
   * Running: only killing its worker stops it; the batches queued behind
   * it on that worker go back to the front of the queue and the worker is
   * replaced (`#onExit`), so no other job loses anything.
   */
  #stop(p: Pending, error: Error): void {
    if (p.stopped) return;
    const at = this.#queue.indexOf(p, this.#qHead);
    const slot = at >= 0 ? undefined : this.#slots.find((s) => s.outstanding.get(p.id) === p);
    if (at < 0 && !slot) return; // already answered
    p.stopped = true;
    const done = p.done;
    p.done = () => {};
    if (at >= 0) {
      this.#queue.splice(at, 1);
      this.#changePending(-1);
    } else if (slot!.outstanding.values().next().value === p) {
      slot!.outstanding.delete(p.id);
      this.#changePending(-1);
      const behind = [...slot!.outstanding.values()];
      slot!.outstanding.clear();
      slot!.predicted = 0;
      slot!.unknown = 0;
      const requeue = behind.filter((b) => !b.stopped);
      this.#changePending(requeue.length - behind.length);
      for (const b of requeue) b.reclaiming = false;
      this.#queue.splice(this.#qHead, 0, ...requeue);
      slot!.killed = true;
      if (log.enabled) log("%s killed to stop its batch (%s); %d batch(es) behind it requeued", slot!.label(), error.message, requeue.length);
      slot!.proc.kill("SIGKILL");
    } else if (!p.reclaiming) {
      p.reclaiming = true;
      this.#post(slot!, idsMsg(Kind.CANCEL, [p.id]));
    }
    done({ status: "lost", error });
    this.#dispatch();
  }

  #indexOf(fn: TaskBatch["fn"]): number {
    let idx = this.#fnIndex.get(fn.id);
    if (idx === undefined) {
      idx = this.#fnJson.length;
      this.#fnIndex.set(fn.id, idx);
      this.#fnJson.push(JSON.stringify(fn));
      this.#ewma.push(NaN);
    }
    return idx;
  }

  #changePending(delta: number): void {
    this.#pending += delta;
    const want = this.#pending > 0 || this.#state !== "running";
    if (want !== this.#refed) {
      this.#refed = want;
      for (const s of this.#slots) s.proc.setRef(want);
    }
  }

  #spawn(): void {
    const slot = new Slot(this.#nextSlot++);
    this.#workersStarted++;
    slot.proc = new WorkerProcess({
      onConnect: (pid) => {
        slot.pid = pid;
        slot.connected = true;
        this.#startFailures = 0;
        this.#dispatch();
      },
      onMessages: (messages) => this.#onMessages(slot, messages),
      onExit: (exit) => this.#onExit(slot, exit),
    });
    slot.pid = slot.proc.pid;
    if (log.enabled) log("%s starting (%d started so far, pool of %d)", slot.label(), this.#workersStarted, this.size);
    slot.proc.setRef(this.#refed);
    this.#slots.push(slot);
    const init = this.#setup.initializer;
    if (init) {
      slot.defined.add(this.#initIndex);
      this.#post(slot, defineMsg(this.#initIndex, this.#fnJson[this.#initIndex]));
      this.#post(slot, initMsg(Kind.INIT, this.#initIndex, init.args));
    }
  }

  #post(slot: Slot, msg: Msg): void {
    slot.proc.post(msg);
  }

  #pick(p: Pending): Slot | undefined {
    let best: Slot | undefined;
    const est = this.#ewma[p.fnIndex] * p.batch.count;
    const now = performance.now();
    for (const s of this.#slots) {
      if (!s.connected || s.retiring || s.killed) continue;
      if (s.outstanding.size === 0) return s;
      // Only known functions, and only behind at most the budget of predicted work:
      // that bounds how long this batch can wait while another worker idles.
      if (Number.isNaN(est) || s.outstanding.size >= MAX_OUTSTANDING) continue;
      if (s.unknown > 0 || s.predicted > PIPELINE_BUDGET_MS) continue;
      const oldest = s.outstanding.values().next().value as Pending;
      if (now - oldest.sentAt > s.predicted + OVERDUE_MS) continue;
      if (!best || s.predicted < best.predicted) best = s;
    }
    return best;
  }

  #dispatch(): void {
    while (this.#qHead < this.#queue.length) {
      const p = this.#queue[this.#qHead];
      const slot = this.#pick(p);
      if (!slot) break;
      this.#queue[this.#qHead++] = undefined as unknown as Pending;
      this.#assign(slot, p);
    }
    if (this.#qHead > 1024 && this.#qHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#qHead);
      this.#qHead = 0;
    }
    if (this.#qHead === this.#queue.length) this.#maybeReclaim();
    this.#maybeFinishClose();
  }

  /**
   * A prediction can be wrong (the same function, fast before, slow now):
   * when a worker is idle while another holds batches queued behind an
   * overdue one, ask for those back (CANCEL); the worker returns the ones
   * it has not started and they go to the front of the queue.
   */
  #maybeReclaim(): void {
    if (this.#state === "terminated" || this.#broken) return;
    const idle = this.#slots.some((s) => s.connected && !s.retiring && !s.killed && s.outstanding.size === 0);
    if (!idle) return;
    const now = performance.now();
    let next = Infinity;
    for (const s of this.#slots) {
      if (s.outstanding.size < 2 || s.killed) continue;
      const it = s.outstanding.values();
      const oldest = it.next().value as Pending;
      const due = oldest.sentAt + Math.max(0, oldest.est) + OVERDUE_MS;
      if (now < due) {
        next = Math.min(next, due);
        continue;
      }
      const ids: number[] = [];
      for (const p of it) {
        if (!p.reclaiming) {
          p.reclaiming = true;
          ids.push(p.id);
        }
      }
      if (ids.length > 0) this.#post(s, idsMsg(Kind.CANCEL, ids));
    }
    if (next < Infinity && this.#reclaimTimer === undefined) {
      this.#reclaimTimer = setTimeout(() => {
        this.#reclaimTimer = undefined;
        this.#dispatch();
      }, Math.max(1, next - now));
      (this.#reclaimTimer as { unref?: () => void }).unref?.();
    }
  }

  #onCancelled(slot: Slot, ids: number[]): void {
    const back: Pending[] = [];
    for (const id of ids) {
      const p = slot.outstanding.get(id);
      if (!p) continue;
      slot.outstanding.delete(id);
      slot.assigned--;
      if (p.est < 0) slot.unknown--;
      else slot.predicted = Math.max(0, slot.predicted - p.est);
      p.reclaiming = false;
      if (p.stopped) this.#changePending(-1);
      else back.push(p);
    }
    back.sort((a, b) => a.id - b.id);
    this.#queue.splice(this.#qHead, 0, ...back);
  }

  #assign(slot: Slot, p: Pending): void {
    p.id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    const e = this.#ewma[p.fnIndex];
    p.est = Number.isNaN(e) ? -1 : e * p.batch.count;
    if (p.est < 0) slot.unknown++;
    p.sentAt = performance.now();
    slot.outstanding.set(p.id, p);
    if (p.est > 0) slot.predicted += p.est;
    slot.assigned++;
    if (!slot.defined.has(p.fnIndex)) {
      slot.defined.add(p.fnIndex);
      this.#definesSent++;
      this.#post(slot, defineMsg(p.fnIndex, this.#fnJson[p.fnIndex]));
    }
    this.#post(slot, taskMsg(p.id, p.fnIndex, p.batch.payload, p.batch.each === true));
    if (slot.outstanding.size === 1) this.#startHead(slot);
    const max = this.#setup.maxtasksperchild;
    if (max !== undefined && slot.assigned >= max) {
      // Recycle: the worker finishes what it holds and exits; its
      // replacement starts now so that the pool keeps its size.
      slot.retiring = true;
      if (log.enabled) log("%s recycled after %d batches (maxtasksperchild)", slot.label(), slot.assigned);
      this.#post(slot, quitMsg());
      if (this.#state === "running") this.#spawn();
    }
  }

  /** The first batch in a worker's line is the one it runs: tell its owner it started. */
  #startHead(slot: Slot): void {
    const head = slot.outstanding.values().next().value as Pending | undefined;
    const started = head?.started;
    if (started === undefined) return;
    head!.started = undefined;
    started();
  }

  #onMessages(slot: Slot, frames: Uint8Array[]): void {
    for (let i = 0; i + 1 < frames.length; i += 2) {
      const m = frames[i];
      const body = frames[i + 1];
      if (m[0] === Kind.RESULT) {
        const id = u32(m, 1);
        const p = slot.outstanding.get(id);
        if (!p) continue;
        slot.outstanding.delete(id);
        this.#startHead(slot);
        if (p.est < 0) slot.unknown--;
        slot.predicted = slot.outstanding.size === 0 ? 0 : Math.max(0, slot.predicted - Math.max(0, p.est));
        const elapsed = f64(m, 6);
        const perTask = elapsed / Math.max(1, p.batch.count);
        const old = this.#ewma[p.fnIndex];
        this.#ewma[p.fnIndex] = Number.isNaN(old) ? perTask : old + EWMA_WEIGHT * (perTask - old);
        const status = m[5];
        if (this.#firstReady) this.#spawnDeferred();
        this.#changePending(-1);
        p.done(
          status === Status.OK
            ? { status: "ok", payload: body }
            : status === Status.THREW
            ? { status: "threw", payload: body }
            : { status: "unserializable", message: text(body) },
        );
      } else if (m[0] === Kind.READY) {
        this.#workersReady++;
        if (log.enabled) log("%s ready", slot.label());
        // Busy with a first task: start the rest after its result (below), or soon anyway.
        this.#firstReady = true;
        this.#spawnDeferred(slot.outstanding.size > 0 ? DEFER_BUSY_MS : 0);
      } else if (m[0] === Kind.CANCELLED) {
        this.#onCancelled(slot, readIds(m));
      } else if (m[0] === Kind.INIT_FAILED) {
        let cause: unknown;
        try {
          cause = m[1] === Status.THREW ? decode(body) : text(body);
        } catch (err) {
          cause = err;
        }
        const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
        this.#break(new WorkerLostError(`${slot.label()}: initializer failed: ${what}`, { cause }));
      }
    }
    this.#dispatch();
  }

  /** Fails everything, now and later, with `error`, and stops the workers. */
  #break(error: Error): void {
    if (this.#broken) return;
    this.#broken = error;
    log("transport broken: %s", error.message);
    this.#failQueued(error);
    for (const s of this.#slots) {
      this.#failOutstanding(s, error);
      s.killed = true;
      s.proc.kill("SIGKILL");
    }
  }

  #failQueued(error: Error): void {
    const queued = this.#queue.slice(this.#qHead);
    this.#queue = [];
    this.#qHead = 0;
    for (const p of queued) {
      this.#changePending(-1);
      p.done({ status: "lost", error });
    }
  }

  #failOutstanding(slot: Slot, error: Error): void {
    const lost = [...slot.outstanding.values()];
    slot.outstanding.clear();
    slot.predicted = 0;
    slot.unknown = 0;
    for (const p of lost) {
      this.#changePending(-1);
      p.done({ status: "lost", error });
    }
  }

  #onExit(slot: Slot, exit: WorkerExit): void {
    this.#slots = this.#slots.filter((s) => s !== slot);
    this.#spawnDeferred();
    const n = slot.outstanding.size;
    const replace = this.#state === "running" && !this.#broken && !slot.retiring;
    if (log.enabled) log("%s %s with %d batch(es) unfinished%s", slot.label(), describeExit(exit), n, replace ? "; replacing it" : "");
    if (n > 0) {
      const error = this.#state === "terminated"
        ? new WorkerLostError(`${slot.label()} was stopped by terminate()`)
        : new WorkerLostError(`${slot.label()} ${describeExit(exit)} while running ${n} batch${n === 1 ? "" : "es"}`);
      this.#failOutstanding(slot, error);
    }
    if (!exit.connected && !slot.killed && this.#state === "running" && !this.#broken) {
      if (++this.#startFailures >= MAX_START_FAILURES) {
        this.#break(new WorkerLostError(`cannot start local workers: ${slot.label()} ${describeExit(exit)}`));
      }
    }
    if (replace && !this.#broken) this.#spawn();
    if (this.#slots.length === 0) this.#resolveAllExited?.();
    this.#dispatch();
  }

  #maybeFinishClose(): void {
    if (this.#state !== "closing" || this.#pending > 0) return;
    for (const s of this.#slots) {
      if (!s.retiring) {
        s.retiring = true;
        this.#post(s, quitMsg());
      }
    }
  }

  #whenAllExited(): Promise<void> {
    if (this.#slots.length === 0) return Promise.resolve();
    this.#allExited ??= new Promise<void>((resolve) => {
      this.#resolveAllExited = resolve;
    });
    return this.#allExited;
  }

  close(): Promise<void> {
    if (this.#state === "running") {
      this.#state = "closing";
      this.#changePending(0);
      if (this.#broken) for (const s of this.#slots) s.proc.kill("SIGKILL");
      this.#maybeFinishClose();
    }
    return this.#whenAllExited();
  }

  terminate(): Promise<void> {
    if (this.#state !== "terminated") {
      this.#state = "terminated";
      this.#deferred = 0;
      clearTimeout(this.#deferTimer);
      this.#changePending(0);
      const error = new StateError("transport terminated");
      this.#failQueued(error);
      for (const s of this.#slots) {
        s.killed = true;
        s.proc.kill("SIGTERM");
      }
      const done = this.#whenAllExited();
      if (this.#slots.length > 0) {
        // A worker that ignores SIGTERM still goes.
        const t = setTimeout(() => {
          for (const s of this.#slots) s.proc.kill("SIGKILL");
        }, 1000);
        done.then(() => clearTimeout(t));
      }
    }
    return this.#whenAllExited();
  }
}
