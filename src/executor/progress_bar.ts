/**
 * A progress bar for blocking waits (`wait`, `getResult`) over
 * `cli-progress`, which is loaded only when a bar is actually shown.
 *
 * @module
 */

/** Where a bar draws: a writable stream (`process.stderr` by default). */
export interface ProgressStream {
  /** Writes a piece of the bar. */
  write(chunk: string): unknown;
  /** Whether it is a terminal; the bar is shown by default only then. */
  isTTY?: boolean;
  /** The terminal width, which the bar fits in when given. */
  columns?: number;
}

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  /** Show the bar. @default `true` when `stream` is a TTY */
  enabled?: boolean;
  /** Where to draw. @default `process.stderr` */
  stream?: ProgressStream;
}

/** A running bar. */
export interface Progress {
  /**
   * Sets how many of the total are done.
   * @throws {RangeError} unless `done` is an integer in `0..total`.
   */
  update(done: number): void;
  /** Draws the last value and ends the bar (leaving it on screen); idempotent. */
  stop(): Promise<void>;
}

type CliProgress = typeof import("npm:cli-progress@^3.12.0");
type Bar = InstanceType<CliProgress["SingleBar"]>;

function count(name: string, v: unknown, max: number): number {
  if (typeof v !== "number") throw new TypeError(`${name} must be a number, got ${typeof v}`);
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new RangeError(`${name} must be an integer in 0..${max}, got ${v}`);
  return v;
}

/**
 * Starts a progress bar counting up to `total` calls. By default it is
 * shown only when its stream (stderr) is a terminal; otherwise nothing is
 * printed and nothing is loaded.
 *
 * @example
 * ```ts
 * import { startProgress } from "./src/executor/progress_bar.ts";
 * const bar = startProgress(3); // silent unless stderr is a terminal
 * for (let done = 1; done <= 3; done++) bar.update(done);
 * await bar.stop();
 * ```
 * @throws {TypeError|RangeError} unless `total` is an integer ≥ 0.
 */
export function startProgress(total: number, options: ProgressOptions = {}): Progress {
  count("startProgress: total", total, Number.MAX_SAFE_INTEGER);
  if (options === null || typeof options !== "object") throw new TypeError("startProgress: options must be an object");
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? stream.isTTY === true;
  let latest = 0;
  if (!enabled) {
    return {
      update: (done) => void count("Progress.update: done", done, total),
      stop: () => Promise.resolve(),
    };
  }
  let stopped = false;
  let bar: Bar | undefined;
  // Even a wait that ends before the library has loaded draws its final state once.
  const ready = import("npm:cli-progress@^3.12.0").then((mod) => {
    const { SingleBar, Presets } = ((mod as { default?: CliProgress }).default ?? mod) as CliProgress;
    bar = new SingleBar({
      stream: stream as NodeJS.WritableStream,
      format: "{bar} {value}/{total} calls | {percentage}% | ETA {eta_formatted}",
      hideCursor: true,
      // Drawn on a non-terminal stream too when asked for explicitly.
      noTTYOutput: stream.isTTY !== true,
    }, Presets.shades_classic);
    bar.start(total, latest);
  });
  // A failed load surfaces from stop(), not as an unhandled rejection.
  ready.catch(() => {});
  return {
    update(done) {
      latest = count("Progress.update: done", done, total);
      bar?.update(latest);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await ready;
      bar?.update(latest);
      bar?.stop();
    },
  };
}
