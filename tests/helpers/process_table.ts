/**
 * Test helper: whether processes still run, as the fault tests need it. A
 * process killed after its parent died is a zombie until the new parent
 * (init, or a subreaper) collects it, which may take a while; a zombie runs
 * nothing, so it counts as gone. Linux shows the state in /proc; elsewhere
 * a signal-0 probe is the best there is (and counts zombies as running).
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as { code?: string }).code === "EPERM";
    }
  }
  // "pid (comm) S …": the state follows the last ")" (comm may hold one).
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

/**
 * Polls every 20 ms, for at most `ms`, until none of `pids` runs. Returns
 * how long that took (ms), or `Infinity` with the survivors when the bound
 * ran out.
 */
export async function waitUntilGone(pids: Iterable<number>, ms: number): Promise<{ elapsed: number; left: number[] }> {
  const start = performance.now();
  let left = [...pids].filter(isRunning);
  while (left.length > 0 && performance.now() - start < ms) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter(isRunning);
  }
  return { elapsed: left.length === 0 ? performance.now() - start : Infinity, left };
}

/**
 * The running processes whose command line contains `marker`, children of
 * this process only when `childrenOnly` (Linux: read from /proc; elsewhere
 * `undefined`, unknown).
 */
export function runningProcesses(marker: string, childrenOnly = false): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  const found: number[] = [];
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z" || (childrenOnly && Number(fields[1]) !== process.pid)) continue;
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes(marker)) found.push(Number(e));
    } catch {
      // it ended while we looked
    }
  }
  return found;
}
