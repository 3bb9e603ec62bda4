/**
 * Where the user wrote a shipped function, found on the submitting side so
 * that a worker can compile it at that file and line (see `script` in
 * `function_loader.ts`) and its stack frames point at the user's code.
 *
 * A function object does not tell where it was defined, so the origin is
 * found from its source: the files of the call stack outside skypool (the
 * caller of `pool.map` first) are searched for the source's lines. Each
 * file is read and indexed once; a function is located once (its ref is
 * cached). Found where the source text, or its lines, appear in the file:
 * always for JavaScript run as written or compiled ahead of time; for
 * TypeScript that the runtime strips on the fly (Deno, tsx) the body's
 * lines still match, and a one-line function written at the call
 * (`pool.map((x: number) => …)`) is matched loosely: its text must be a
 * subsequence of the calling line, as it is with types removed. Where the
 * runtime re-printed the function (Deno spreads a one-line body over
 * several lines), lines after the first are off by what it added. A
 * one-line typed function defined elsewhere than at the call is not
 * found (a loose match anywhere would find false origins). Not found (a function built by `new Function`, a file that
 * cannot be read…): no origin, and the worker's frames read as before.
 *
 * @module
 */
import { fs, nodeUrl } from "../runtime/builtins.ts";
import type { SourceOrigin } from "./function_loader.ts";

/** skypool's own sources: frames in here are skipped to find the caller. */
const OWN_DIR = new URL("../", import.meta.url).href;
/** Files searched per function: the callers nearest to the call. */
const MAX_FILES = 3;
/** Files whose index is kept; beyond this the cache starts over. */
const MAX_CACHED_FILES = 64;
/** Source lines shorter than this (`}`, `});`) say nothing about where a function is. */
const MIN_LINE = 4;

interface FileIndex {
  lines: string[];
  /** Trimmed line → the 1-based numbers of the lines that read so. */
  byText: Map<string, number[]>;
}

const files = new Map<string, FileIndex | null>();

interface Frame {
  url: string;
  line: number;
}

/** The caller frames (file URL and line) outside skypool, nearest first. */
function callerFrames(): Frame[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  const frames: Frame[] = [];
  // `at fn (file:///a.ts:3:9)`, `at file:///a.ts:3:9`, `at /abs/a.js:3:9`; an eval frame (`…, <anonymous>:1:1`) does not match.
  for (const m of stack.matchAll(/^\s+at (?:.*?\()?((?:file:\/\/|\/)[^\s(),]+?):(\d+):\d+\)?$/gm)) {
    const url = m[1].startsWith("/") ? nodeUrl().pathToFileURL(m[1]).href : m[1];
    if (url.startsWith(OWN_DIR)) continue;
    frames.push({ url, line: Number(m[2]) });
  }
  return frames;
}

function indexOf(url: string): FileIndex | null {
  let index = files.get(url);
  if (index !== undefined) return index;
  try {
    const lines = fs().readFileSync(nodeUrl().fileURLToPath(url), "utf8").split(/\r?\n/);
    const byText = new Map<string, number[]>();
    lines.forEach((line, i) => {
      const t = line.trim();
      if (t.length < MIN_LINE) return;
      const at = byText.get(t);
      if (at === undefined) byText.set(t, [i + 1]);
      else at.push(i + 1);
    });
    index = { lines, byText };
  } catch {
    index = null;
  }
  if (files.size >= MAX_CACHED_FILES) files.clear();
  files.set(url, index);
  return index;
}

/** Whether `small` (whitespace removed) is a subsequence of `big`: `(x)=>x*2` in `(x: number) => x * 2`. */
function isSubsequence(small: string, big: string): boolean {
  let i = 0;
  for (let j = 0; j < big.length && i < small.length; j++) if (big[j] === small[i]) i++;
  return i === small.length;
}

/**
 * The 1-based line where `source` starts in the file. Each line of the
 * source that appears in the file votes for a start, weighted by its length
 * (a long line says more than `return x;`); the winner needs a third of the
 * source's weight, ties go to the line nearest the calling line `near`.
 */
function startLine(index: FileIndex, source: string[], near: number): number | undefined {
  const votes = new Map<number, number>();
  let total = 0;
  source.forEach((line, i) => {
    const t = line.trim();
    if (t.length < MIN_LINE) return;
    total += t.length;
    for (const at of index.byText.get(t) ?? []) {
      if (at - i >= 1) votes.set(at - i, (votes.get(at - i) ?? 0) + t.length);
    }
  });
  const closest = (a: number, b: number) => Math.abs(a - near) < Math.abs(b - near) ? a : b;
  let best: number | undefined;
  for (const [line, n] of votes) {
    const bn = best === undefined ? 0 : votes.get(best)!;
    if (n > bn || (n === bn && closest(line, best!) === line)) best = line;
  }
  if (best !== undefined && votes.get(best)! * 3 >= total) return best;
  // No line matched as it is: a one-line function written at the call, with its types stripped (and which the
  // runtime may have re-printed over several lines): its text is a subsequence of the calling line.
  const squeezedSource = source.join("").replace(/\s+/g, "");
  const callLine = (index.lines[near - 1] ?? "").replace(/\s+/g, "");
  return squeezedSource.length >= MIN_LINE && isSubsequence(squeezedSource, callLine) ? near : undefined;
}

/**
 * Where `source` (a function's `toString()`) was written, searched in the
 * files of the current call stack outside skypool, or `undefined`.
 *
 * @example
 * ```ts
 * import { sourceOrigin } from "./src/task/source_origin.ts";
 * const double = (x: number) => x * 2;
 * const origin = sourceOrigin(double.toString());
 * console.assert(origin === undefined || origin.line >= 1);
 * ```
 */
export function sourceOrigin(source: string): SourceOrigin | undefined {
  const lines = source.split(/\r?\n/);
  const seen = new Set<string>();
  for (const frame of callerFrames()) {
    if (seen.has(frame.url)) continue;
    if (seen.size >= MAX_FILES) break;
    seen.add(frame.url);
    const index = indexOf(frame.url);
    if (index === null) continue;
    const line = startLine(index, lines, frame.line);
    if (line === undefined) continue;
    const text = index.lines[line - 1];
    const at = text.indexOf(lines[0]);
    const column = (at >= 0 ? at : text.search(/\S|$/)) + 1;
    return { url: frame.url, line, column };
  }
  return undefined;
}
