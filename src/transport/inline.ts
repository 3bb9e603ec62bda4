/**
 * The `inline` transport (`new Pool(0)`, `transport: "inline"`): runs each
 * task by calling the function object itself in the calling thread, in
 * submission order. Nothing is serialized, so closures, mocks and side
 * effects on the caller's objects work — the mode for unit tests, as
 * lambda_multiprocessing's `Pool(0)`. A synchronous function runs at
 * submission, before `applyAsync` returns; an async one (or a module
 * reference, which must be imported first) runs after every earlier task.
 *
 * `maxtasksperchild` has no meaning here and is ignored. An initializer runs
 * once, at start; if it throws, every task fails with that error.
 *
 * @module
 */
import { loadFunction, shipFunction, TaskRef, type TaskFn } from "../task/function_ref.ts";
import type { InProcessOutcome, InProcessTransport } from "./transport.ts";

type Fn = (...args: unknown[]) => unknown;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") && typeof (v as { then?: unknown }).then === "function";
}

/**
 * Runs tasks in the calling thread.
 *
 * @example
 * ```ts
 * import { InlineTransport } from "./src/transport/inline.ts";
 * const t = new InlineTransport();
 * const seen: number[] = [];
 * t.runChunk((x: number) => seen.push(x), [[1], [2]], () => {});
 * console.assert(seen.join() === "1,2");
 * ```
 */
export class InlineTransport implements InProcessTransport {
  readonly kind = "in-process" as const;
  readonly name = "inline";
  readonly size = 1;
  /** The tail of the async work in flight; later chunks run after it. */
  #tail: Promise<void> | undefined;
  #initError: { error: unknown } | undefined;
  #modules = new Map<string, Promise<Fn>>();

  start(initializer?: { fn: TaskFn; args: unknown[] }): void {
    if (!initializer) return;
    this.#run(initializer.fn, [initializer.args], (outcome) => {
      if (outcome.status === "threw") this.#initError = { error: outcome.error };
    });
  }

  runChunk(fn: TaskFn, argLists: unknown[][], done: (outcome: InProcessOutcome) => void): void {
    this.#run(fn, argLists, (outcome) => done(this.#initError ? { status: "threw", error: this.#initError.error } : outcome));
  }

  #resolve(fn: TaskFn): Fn | Promise<Fn> {
    if (!(fn instanceof TaskRef)) return fn as Fn;
    const key = `${fn.url}#${fn.exportName}`;
    let p = this.#modules.get(key);
    if (!p) {
      p = loadFunction(shipFunction(fn)).then((f) => {
        if (typeof f !== "function") throw new TypeError(`export ${JSON.stringify(fn.exportName)} of ${fn.url} is not a function`);
        return f;
      });
      this.#modules.set(key, p);
    }
    return p;
  }

  #run(fn: TaskFn, argLists: unknown[][], done: (outcome: InProcessOutcome) => void): void {
    if (this.#initError) return done({ status: "threw", error: this.#initError.error });
    const resolved = this.#resolve(fn);
    if (this.#tail === undefined && !isThenable(resolved)) {
      const values: unknown[] = [];
      for (let i = 0; i < argLists.length; i++) {
        let r: unknown;
        try {
          r = resolved(...argLists[i]);
        } catch (error) {
          return done({ status: "threw", error });
        }
        if (isThenable(r)) {
          this.#chain(() => this.#finish(resolved, argLists, values, i, r), done);
          return;
        }
        values.push(r);
      }
      return done({ status: "ok", values });
    }
    this.#chain(async () => {
      const f = await resolved;
      return this.#finish(f, argLists, [], 0, undefined);
    }, done);
  }

  async #finish(fn: Fn, argLists: unknown[][], values: unknown[], from: number, pending: unknown): Promise<InProcessOutcome> {
    try {
      let i = from;
      if (pending !== undefined) {
        values.push(await pending);
        i++;
      }
      for (; i < argLists.length; i++) values.push(await fn(...argLists[i]));
      return { status: "ok", values };
    } catch (error) {
      return { status: "threw", error };
    }
  }

  #chain(work: () => Promise<InProcessOutcome>, done: (outcome: InProcessOutcome) => void): void {
    const prev = this.#tail ?? Promise.resolve();
    const next = prev.then(work).then(
      (outcome) => done(this.#initError && outcome.status === "ok" ? outcome : outcome),
      (error) => done({ status: "threw", error }),
    ).then(() => {
      if (this.#tail === next) this.#tail = undefined;
    });
    this.#tail = next;
  }

  async close(): Promise<void> {
    await this.#tail;
  }

  async terminate(): Promise<void> {
    // Nothing to kill: running code in this thread cannot be interrupted.
  }
}
