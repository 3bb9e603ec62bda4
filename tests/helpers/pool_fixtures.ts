/**
 * Shared fixtures for the Pool and Process behaviour tests.
 *
 * Two kinds of things live here:
 *
 * - Task functions shipped BY SOURCE (`pool.apply(sqr, [3])`). Each one is
 *   self-contained: it uses only its parameters, runtime globals and dynamic
 *   `import()`, because the worker rebuilds it from its source text. Do not
 *   let them refer to anything else in this module.
 * - Named exports used through `task(fixturesUrl, "name")`, which the worker
 *   imports; those may use module scope (that is the point of them).
 *
 * Plus small test utilities (timeouts, collecting iterables, pid checks)
 * that run only in the test process. This module imports nothing, so a
 * worker importing it for a module reference stays light.
 *
 * @module
 */

// ---------------------------------------------------------------------------
// Module-reference fixtures (`task(fixturesUrl, name)`)

/**
 * This module's own URL in the running runtime: the `.ts` source under Deno,
 * the compiled `.js` under Node (import.meta.url already points at it).
 */
export const fixturesUrl: string = import.meta.url;

/** Module scope that only a module reference (never a shipped source) can see. */
const MODULE_SCALE = 7;
let moduleCalls = 0;

/** Uses a module-level binding: only works as `task(fixturesUrl, "scaleByModuleConstant")`. */
export function scaleByModuleConstant(x: number): number {
  moduleCalls += 1;
  return x * MODULE_SCALE;
}

/** How many times `scaleByModuleConstant` ran in this (worker) process. */
export function moduleCallCount(): number {
  return moduleCalls;
}

/** The default export, for `task(fixturesUrl)` without an export name. */
export default function defaultExport(x: unknown): string {
  return `default:${String(x)}`;
}

/** An initializer given as a module reference: records its argument in module scope. */
let moduleInitValue: unknown = undefined;
export function moduleInitializer(value: unknown): void {
  moduleInitValue = value;
}
export function readModuleInitValue(): unknown {
  return moduleInitValue;
}

// ---------------------------------------------------------------------------
// Self-contained task functions (shipped by source)

/** CPython's `sqr(x, wait)`: sleeps `waitMs`, returns `x * x`. */
export const sqr = async (x: number, waitMs = 0): Promise<number> => {
  if (waitMs) await new Promise((r) => setTimeout(r, waitMs));
  return x * x;
};

/** A plain synchronous function, to check sync functions ship too. */
export function mul(x: number, y: number): number {
  return x * y;
}

export const identity = <T>(x: T): T => x;

/** Sleeps `ms`, returns `ms`. */
export const sleepMs = async (ms: number): Promise<number> => {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
};

/** The worker's pid, after an optional sleep. */
export const pidAfter = async (ms = 0): Promise<number> => {
  if (ms) await new Promise((r) => setTimeout(r, ms));
  return process.pid;
};

/** Start and end wall-clock times of a sleep, plus the pid: for overlap checks. */
export const timedSleep = async (ms: number): Promise<{ pid: number; start: number; end: number }> => {
  const start = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return { pid: process.pid, start, end: Date.now() };
};

/**
 * The largest number of `[start, end)` intervals open at one instant: how
 * many tasks really ran at once, judged from times the tasks recorded
 * themselves (deterministic on a noisy machine, unlike a wall-clock total).
 */
export function maxOverlap(intervals: Array<readonly [number, number]>): number {
  // At equal times an end sorts before a start: touching intervals did not overlap.
  const events = intervals.flatMap(([a, b]) => [[a, 1], [b, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (open += delta));
  return most;
}

const livePools = new Set<{ terminate(): Promise<void> }>();

/**
 * Registers a pool for {@link terminateTracked}, so that a test that fails
 * half-way still leaves no worker behind.
 */
export function tracked<P extends { terminate(): Promise<void> }>(pool: P): P {
  livePools.add(pool);
  return pool;
}

/** Terminates every tracked pool (idempotent for those the test ended itself): an `afterEach` hook. */
export async function terminateTracked(): Promise<void> {
  const pools = [...livePools];
  livePools.clear();
  await withTimeout(Promise.all(pools.map((p) => p.terminate())), 15_000, "terminating the test's pools");
}

/** Writes its pid to `path` (so the test knows the task started and where), then sleeps. */
export const markThenSleep = async (path: string, ms: number): Promise<number> => {
  const fs = await import("node:fs");
  fs.writeFileSync(path, String(process.pid));
  await new Promise((r) => setTimeout(r, ms));
  return process.pid;
};

/** Ends the worker process from inside a task. */
export const exitWith = (code: number): never => {
  process.exit(code);
};

/** Throws a built-in TypeError from a named function, so the remote stack names it. */
export function throwTypeErrorMarker(message: string): never {
  throw new TypeError(message);
}

/** Throws an instance of a class that exists only in the worker. */
export function throwCustomErrorMarker(message: string): never {
  class SayWhenCustomError extends Error {
    constructor(msg: string) {
      super(msg);
      this.name = "SayWhenCustomError";
    }
  }
  throw new SayWhenCustomError(message);
}

/** `x * x`, but throws a RangeError for `x === bad`. */
export const sqrOrFail = (x: number, bad: number): number => {
  if (x === bad) throw new RangeError(`bad item ${x}`);
  return x * x;
};

/** Sleeps, then throws a RangeError with a `size`-character message (CPython's raise_large_valuerror). */
export const sleepThenThrow = async (ms: number, size = 16): Promise<never> => {
  await new Promise((r) => setTimeout(r, ms));
  throw new RangeError(`${ms}:` + "x".repeat(size));
};

/** Throws something that is not an Error. */
export const throwNonError = (): never => {
  throw "a plain string";
};

/** Returns a value the codec cannot ship (a function). */
export const returnUnserializable = (): unknown => ({ ok: 1, callback: () => 42 });

/** Sleeps, then returns its payload (lambda_multiprocessing's return_with_sleep). */
export const returnWithSleep = async (payload: string, ms: number): Promise<string> => {
  if (ms) await new Promise((r) => setTimeout(r, ms));
  return payload;
};

/** An initializer shipped by source: counts its runs and keeps its argument in a worker global. */
export const initSetGlobal = (value: unknown): void => {
  const g = globalThis as unknown as { __poolInitCount?: number; __poolInitValue?: unknown };
  g.__poolInitCount = (g.__poolInitCount ?? 0) + 1;
  g.__poolInitValue = value;
};

/** Reads what `initSetGlobal` left in the worker. */
export const readInitGlobal = async (
  ms = 0,
): Promise<{ pid: number; count: number | undefined; value: unknown }> => {
  if (ms) await new Promise((r) => setTimeout(r, ms));
  const g = globalThis as unknown as { __poolInitCount?: number; __poolInitValue?: unknown };
  return { pid: process.pid, count: g.__poolInitCount, value: g.__poolInitValue };
};

/** Writes `JSON.stringify(rest)` to `path` (for Process tests, which have no return value). */
export const writeJson = async (path: string, ...rest: unknown[]): Promise<void> => {
  const fs = await import("node:fs");
  fs.writeFileSync(path, JSON.stringify(rest));
};

/** Describes the types of its arguments, as the worker sees them. */
export const describeArgs = (...args: unknown[]): string[] =>
  args.map((a) => {
    if (a === null) return "null";
    if (typeof a !== "object") return typeof a;
    return Object.prototype.toString.call(a).slice(8, -1);
  });

// ---------------------------------------------------------------------------
// Test-process utilities (never shipped)

/** The error CPython's `exception_throwing_generator` raises. */
export class SayWhenError extends Error {
  constructor(message = "SayWhenError") {
    super(message);
    this.name = "SayWhenError";
  }
}

/** Yields `0..total-1` and throws `SayWhenError` at index `when` (`-1`: before the first item). */
export function* throwingGenerator(total: number, when: number): Generator<number> {
  if (when === -1) throw new SayWhenError(`at ${when}`);
  for (let i = 0; i < total; i++) {
    if (i === when) throw new SayWhenError(`at ${when}`);
    yield i;
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Awaits `p`, failing with a clear message after `ms` instead of hanging
 * the suite. The timer is cleared either way, so it never keeps a runtime
 * alive.
 */
export async function withTimeout<T>(p: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve(p), guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Collects an async iterable into an array, with an overall bound. */
export function collect<T>(it: AsyncIterable<T>, ms: number, what: string): Promise<T[]> {
  return withTimeout(
    (async () => {
      const out: T[] = [];
      for await (const v of it) out.push(v);
      return out;
    })(),
    ms,
    what,
  );
}

/**
 * Iterates `it`, recording each value until it throws. Returns the values
 * seen and the error (or `undefined` if it ended normally).
 */
export function collectUntilError<T>(
  it: AsyncIterable<T>,
  ms: number,
  what: string,
): Promise<{ values: T[]; error: unknown }> {
  return withTimeout(
    (async () => {
      const values: T[] = [];
      try {
        for await (const v of it) values.push(v);
      } catch (error) {
        return { values, error };
      }
      return { values, error: undefined };
    })(),
    ms,
    what,
  );
}

/** True while a process with this pid exists (signal 0 probes without killing). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

/** Waits (bounded) until none of `pids` is alive; returns those still alive. */
export async function waitPidsGone(pids: Iterable<number>, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = [...pids].filter(pidAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(50);
    alive = alive.filter(pidAlive);
  }
  return alive;
}

/**
 * Runs rounds of `n` overlapping 300 ms `pidAfter` tasks until one round
 * lands on `n` distinct workers (a new or replacement worker may take a
 * moment to start; until it has, the running workers rightly take the
 * work). Returns that round's pids (fewer than `n` if the bound ran out).
 */
export async function poolPids(
  pool: { map(fn: typeof pidAfter, items: number[], chunksize?: number): Promise<number[]> },
  n: number,
  ms: number,
): Promise<Set<number>> {
  const deadline = Date.now() + ms;
  let pids = new Set<number>();
  while (Date.now() < deadline) {
    pids = new Set(await withTimeout(pool.map(pidAfter, Array(n).fill(300), 1), ms, "pid round"));
    if (pids.size === n) return pids;
  }
  return pids;
}

/** Polls (bounded) until `path` exists and is non-empty; returns its text. */
export async function waitForFile(path: string, ms: number): Promise<string> {
  const fs = await import("node:fs");
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const text = fs.readFileSync(path, "utf8");
      if (text.length > 0) return text;
    } catch {
      // not written yet
    }
    await sleep(20);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${path}`);
}

/** A fresh temp directory for marker files; remove it with `removeDir`. */
export async function makeTempDir(prefix: string): Promise<string> {
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  const fs = await import("node:fs");
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Asserts-friendly: the name of an error's class, or its `remoteName` for a RemoteError. */
export function errorSummary(err: unknown): string {
  if (!(err instanceof Error)) return `non-Error ${typeof err}: ${String(err)}`;
  const remote = (err as { remoteName?: string }).remoteName;
  return `${err.constructor.name}${remote ? `(${remote})` : ""}: ${err.message.slice(0, 200)}`;
}
