/**
 * A {@link Transport} that runs batches on remote workers over a
 * {@link BatchChannel} (HTTP, a Redis Stream, Lambda): each batch is sealed
 * under the authkey, sent, and the answer opened (its MAC verified, its
 * batch id matched) before anything in it is believed.
 *
 * At most `size` batches are in flight; the rest wait in FIFO order. A
 * worker's refusal, an answer that does not verify, and a channel failure
 * all end the batch as `lost` with an error saying why, never as a hang.
 *
 * @module
 */
import { config } from "../config.ts";
import { SkypoolError, StateError, WorkerLostError } from "../errors.ts";
import { currentEmbeddedServer } from "../state/embedded_server.ts";
import { bundleModule } from "../task/bundle.ts";
import { decode } from "../task/codec.ts";
import type { FunctionRef } from "../task/function_loader.ts";
import type { BatchOutcome, StopBatch, TaskBatch, Transport, WorkerSetup, WorkerStats } from "../transport/transport.ts";
import { messageOf } from "../worker/untrusted.ts";
import type { BatchChannel } from "./batch_channel.ts";
import { type BatchContents, newBatchId, openAnswer, requireRemoteAuthkey, type ResultEnvelope, sealBatch } from "./envelope.ts";
import { portableRef } from "./portable_ref.ts";
import { releaseStdoutRelay, stdoutTarget } from "../execution/stdout_relay.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

/** Options of {@link RemoteTransport}. */
export interface RemoteTransportOptions {
  /** How many batches are in flight at once (the pool's `processes`). */
  size: number;
}

interface Job {
  readonly batch: TaskBatch;
  readonly done: (outcome: BatchOutcome) => void;
  readonly controller: AbortController;
  settled: boolean;
}

/** A `need-bundle` answer is met by sending the bundles inline this many times at most. */
const MAX_BUNDLE_ROUNDS = 1;

/**
 * Runs batches on remote workers reached through `channel`.
 *
 * @example
 * ```ts
 * import { RemoteTransport } from "./src/remote/remote_transport.ts";
 * import { handleBatch } from "./src/remote/remote_worker.ts";
 * import { shipFunction } from "./src/task/function_ref.ts";
 * import { decode, encode } from "./src/task/codec.ts";
 * import { config } from "./src/config.ts";
 * config.set({ authkey: "a-doc-key-of-16-chars" });
 * const channel = {
 *   name: "in-process",
 *   start: async () => {},
 *   send: (sealed: Uint8Array) => handleBatch(sealed),
 *   close: async () => {},
 *   terminate: async () => {},
 * };
 * const t = new RemoteTransport(channel, { size: 2 });
 * t.start({});
 * const outcome = await new Promise((done) =>
 *   t.submit({ fn: shipFunction((x: number) => x + 1), payload: encode([41]), count: 1, each: true }, done));
 * console.assert((decode((outcome as { payload: Uint8Array }).payload) as number[])[0] === 42);
 * await t.close();
 * config.reset();
 * ```
 */
export class RemoteTransport implements Transport {
  /** Batches reach it encoded. */
  readonly kind = "remote" as const;
  /** The channel's name (`"http"`, …). */
  readonly name: string;
  /** Batches in flight at once. */
  readonly size: number;
  /** The channel's byte budget per batch (see `BatchChannel.maxBatchBytes`). */
  readonly maxBatchBytes?: number;
  #channel: BatchChannel;
  #key: string;
  #setup: WorkerSetup = {};
  #started: Promise<void> | undefined;
  #queue: Job[] = [];
  #inFlight = new Set<Job>();
  #state: "running" | "closing" | "terminated" = "running";
  #idle: (() => void)[] = [];
  #closed: Promise<void> | undefined;
  #terminated: Promise<void> | undefined;
  /** Bundles this caller made, by hash (sent inline to a worker that lacks one), and their storing by the channel. */
  #bundles = new Map<string, { code: string; stored: Promise<void> }>();

  /**
   * A transport that sends each batch, sealed, over `channel`, with
   * `options.size` batches in flight.
   *
   * @throws {SkypoolError} when no authkey is configured explicitly (the message says how to set `SKYPOOL_AUTHKEY`).
   * @throws {RangeError} when `size` is not a positive integer.
   */
  constructor(channel: BatchChannel, options: RemoteTransportOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`processes must be a positive integer, got ${options.size}`);
    this.#key = requireRemoteAuthkey(`the ${channel.name} transport`);
    this.#channel = channel;
    this.name = channel.name;
    this.size = options.size;
    if (channel.maxBatchBytes !== undefined) this.maxBatchBytes = channel.maxBatchBytes;
  }

  /** Starts the channel (its failure fails every batch). @throws {StateError} when called twice. */
  start(setup: WorkerSetup): void {
    if (this.#started) throw new StateError("transport already started");
    this.#setup = setup;
    this.#started = this.#channel.start();
    this.#started.catch(() => {});
  }

  /** Queues a batch; `done` is called once, never synchronously. */
  submit(batch: TaskBatch, done: (outcome: BatchOutcome) => void): StopBatch {
    const job: Job = { batch, done, controller: new AbortController(), settled: false };
    if (this.#state !== "running") {
      queueMicrotask(() => this.#settle(job, { status: "lost", error: new StateError(`the ${this.name} transport is ${this.#state === "closing" ? "closing" : "terminated"}`) }));
      return () => {};
    }
    this.#queue.push(job);
    queueMicrotask(() => this.#pump());
    return (error) => {
      this.#settle(job, { status: "lost", error });
      job.controller.abort(error);
    };
  }

  #settle(job: Job, outcome: BatchOutcome): void {
    if (job.settled) return;
    job.settled = true;
    job.done(outcome);
  }

  #pump(): void {
    while (this.#inFlight.size < this.size && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      if (job.settled) continue;
      this.#inFlight.add(job);
      this.#run(job).then((outcome) => this.#settle(job, outcome)).finally(() => {
        this.#inFlight.delete(job);
        this.#pump();
      });
    }
    if (this.#inFlight.size === 0 && this.#queue.every((j) => j.settled)) {
      this.#queue = [];
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #run(job: Job): Promise<BatchOutcome> {
    try {
      if (!this.#started) throw new StateError(`the ${this.name} transport was not started`);
      await this.#started;
      const contents = await this.#contents(job.batch);
      let bundles: Record<string, string> | undefined;
      for (let round = 0;; round++) {
        const batchId = newBatchId();
        const answerUrl = this.#channel.answerUrl?.(batchId);
        const { bytes } = sealBatch({ ...contents, batchId, ...(bundles ? { bundles } : {}), ...(answerUrl ? { answerUrl } : {}) }, this.#key);
        const answer = openAnswer(await this.#channel.send(bytes, { batchId }, job.controller.signal), batchId, this.#key);
        if (answer.kind === "refusal") {
          return { status: "lost", error: new SkypoolError(`the ${this.name} worker ran nothing of the batch: ${answer.message}`) };
        }
        if (answer.result.status !== "need-bundle") return this.#outcome(answer.result);
        bundles = this.#bundlesFor(answer.result.hashes ?? [], round);
      }
    } catch (err) {
      if (job.controller.signal.aborted) return { status: "lost", error: job.controller.signal.reason as Error };
      return { status: "lost", error: err instanceof Error ? err : new WorkerLostError(messageOf(err)) };
    }
  }

  /** What is sealed for a batch (a fresh id and expiry per send). */
  async #contents(batch: TaskBatch): Promise<BatchContents> {
    const init = this.#setup.initializer;
    this.#refuseEmbeddedHandles(batch.payload);
    if (init) this.#refuseEmbeddedHandles(init.args);
    const envVars = config.get().envVars;
    // STREAM_STDOUT: workers publish their lines where this process listens
    // (held until this transport closes).
    const stdout = await stdoutTarget(this);
    return {
      fn: await this.#remoteRef(batch.fn),
      payload: batch.payload,
      each: batch.each ?? false,
      count: batch.count,
      ...(init ? { setup: { fn: await this.#remoteRef(init.fn), args: init.args } } : {}),
      ...(Object.keys(envVars).length > 0 ? { env: envVars } : {}),
      ...(stdout ? { stdout } : {}),
    };
  }

  /**
   * The ref a remote worker can load: skypool's own modules by their
   * package path, other `file:` modules bundled (and stored where workers
   * fetch them, when the channel can), the rest as they are.
   */
  async #remoteRef(ref: FunctionRef): Promise<FunctionRef> {
    const portable = portableRef(ref);
    if (portable.kind !== "module" || !portable.url.startsWith("file:")) return portable;
    const { hash, code } = await bundleModule(portable.url);
    if (!this.#bundles.has(hash)) {
      const stored = this.#channel.storeBundle?.(hash, code) ?? Promise.resolve();
      this.#bundles.set(hash, { code, stored });
      stored.catch(() => this.#bundles.delete(hash));
    }
    await this.#bundles.get(hash)!.stored;
    return { kind: "bundle", id: `b:${hash}#${portable.exportName}`, hash, exportName: portable.exportName };
  }

  /**
   * A handle on this program's private embedded Redis names a socket on
   * this machine, which no remote worker can reach: refuse the batch here,
   * with the fix, rather than let the task fail to connect there.
   */
  #refuseEmbeddedHandles(bytes: Uint8Array): void {
    const url = currentEmbeddedServer()?.url;
    if (url === undefined || !nodeBuffer().from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(url)) return;
    throw new StateError(
      `a task for the ${this.name} transport carries a handle (Lock, Queue, Value, …) on this program's private embedded Redis, ` +
        `which remote workers cannot reach: set SKYPOOL_REDIS_URL (or config redis.url) to a Redis server both sides can reach ` +
        `before making the handle`,
    );
  }

  #bundlesFor(hashes: readonly string[], round: number): Record<string, string> {
    const missing = hashes.filter((h) => !this.#bundles.has(h));
    if (round >= MAX_BUNDLE_ROUNDS || missing.length > 0 || hashes.length === 0) {
      throw new SkypoolError(`the ${this.name} worker lacks the module bundle(s) ${hashes.join(", ")} even when sent inline`);
    }
    return Object.fromEntries(hashes.map((h) => [h, this.#bundles.get(h)!.code]));
  }

  #outcome(r: ResultEnvelope): BatchOutcome {
    switch (r.status) {
      case "ok":
      case "threw":
        return { status: r.status, payload: r.payload };
      case "unserializable":
        return { status: "unserializable", message: r.message ?? "(no reason given)" };
      default: {
        let cause: unknown;
        try {
          cause = decode(r.payload);
        } catch (err) {
          cause = err;
        }
        return {
          status: "lost",
          error: new WorkerLostError(`the initializer failed in ${this.name} worker ${r.workerId}: ${messageOf(cause)}`, { cause }),
        };
      }
    }
  }

  /** No worker processes of its own (`alive` 0); the channel's cold starts. */
  workerStats(): WorkerStats {
    return { alive: 0, replaced: 0, coldStarts: this.#channel.stats?.coldStarts ?? 0 };
  }

  /** Lets queued and in-flight batches finish, then closes the channel. Idempotent. */
  close(): Promise<void> {
    if (this.#state === "running") this.#state = "closing";
    return this.#closed ??= (async () => {
      if (this.#inFlight.size > 0 || this.#queue.some((j) => !j.settled)) await new Promise<void>((resolve) => this.#idle.push(resolve));
      await this.#started?.catch(() => {});
      if (this.#terminated) return await this.#terminated;
      await this.#channel.close();
      await releaseStdoutRelay(this);
    })();
  }

  /** Ends every queued and in-flight batch as `lost` and terminates the channel. Idempotent. */
  terminate(): Promise<void> {
    return this.#terminated ??= (async () => {
      this.#state = "terminated";
      const error = new WorkerLostError(`the ${this.name} transport was terminated before the batch finished`);
      for (const job of [...this.#queue, ...this.#inFlight]) {
        this.#settle(job, { status: "lost", error });
        job.controller.abort(error);
      }
      this.#queue = [];
      for (const resolve of this.#idle.splice(0)) resolve();
      await this.#started?.catch(() => {});
      await this.#channel.terminate();
      await releaseStdoutRelay(this);
    })();
  }
}
