/**
 * `skypool clean [--all]`: removes a program run's Redis keys (its
 * namespace `{prefix}:{session}:…` and the bookkeeping records
 * `{prefix}:op:{session}:…`) and its storage objects (`{prefix}/{session}/`),
 * or those of every session under the prefix with `--all`.
 *
 * @module
 */
import { Command } from "npm:commander@^14.0.3";
import process from "node:process";
import { config, type ConfigUpdate } from "../config.ts";
import { SkypoolError } from "../errors.ts";
import { redactUrl, RedisConnection } from "../state/redis.ts";
import { Storage, storageScheme } from "../storage/storage.ts";
import { storageNamespace } from "../storage/storage_namespace.ts";

/** What {@link cleanNamespace} removes. */
export interface CleanTarget {
  /** The Redis URL; `undefined` when none is configured (no keys are removed). */
  redisUrl?: string;
  /** The key prefix (`config.redis.prefix`). */
  prefix: string;
  /** The session to clean; `undefined` cleans every session under `prefix`. */
  session?: string;
  /** The storage URL whose `{prefix}/{session}/` objects go too; `undefined` leaves storage alone. */
  storageUrl?: string;
  /** Count what would go, remove nothing. */
  dryRun?: boolean;
}

/** What {@link cleanNamespace} removed (or, on a dry run, found). */
export interface CleanReport {
  /** Keys per group (the session, or `op` records, or another name under the prefix), per kind. */
  keys: Map<string, Map<string, number>>;
  /** The number of keys. */
  keyCount: number;
  /** The storage objects' keys. */
  objects: string[];
}

/** Keys SCAN returns per step (and UNLINK removes per command). */
const SCAN_COUNT = 1000;

/** `text` with the glob characters of a SCAN pattern escaped. */
function literal(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** The group (session) and kind of a key under `prefix`, for the report. */
function classify(key: string, prefix: string): [group: string, kind: string] {
  const parts = key.slice(prefix.length + 1).split(":");
  // Bookkeeping records: {prefix}:op:{session}:{id}.
  if (parts[0] === "op" && parts.length > 2) return [parts[1], "op"];
  return [parts[0], parts[1] ?? "(key)"];
}

/** Removes (or, on a dry run, finds) every key matching `pattern`; SCAN, never KEYS. */
async function removeKeys(conn: RedisConnection, pattern: string, found: Set<string>, dryRun: boolean): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await conn.command<[string, string[]]>(["SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT]);
    cursor = String(next);
    const fresh = keys.filter((k) => !found.has(k));
    for (const k of fresh) found.add(k);
    if (!dryRun && fresh.length > 0) await conn.command(["UNLINK", ...fresh]);
  } while (cursor !== "0");
}

/**
 * Removes a namespace's keys from Redis (SCAN and UNLINK) and its objects
 * from storage, and reports what went.
 *
 * @example
 * ```ts
 * import { cleanNamespace } from "./src/cli/clean_command.ts";
 * const report = await cleanNamespace({ prefix: "doc-clean", session: "nothing-here" });
 * console.assert(report.keyCount === 0 && report.objects.length === 0);
 * ```
 * @throws {SkypoolError} (rejects) when Redis cannot be reached or refuses a command.
 * @throws {TypeError} (rejects) for a storage URL that cannot list objects (http).
 */
export async function cleanNamespace(target: CleanTarget): Promise<CleanReport> {
  const { prefix, session, dryRun = false } = target;
  const report: CleanReport = { keys: new Map(), keyCount: 0, objects: [] };
  if (target.redisUrl !== undefined) {
    const conn = new RedisConnection(target.redisUrl);
    const found = new Set<string>();
    try {
      const patterns = session === undefined
        ? [`${prefix}:*`]
        : [`${prefix}:${literal(session)}:*`, `${prefix}:op:${literal(session)}:*`];
      for (const p of patterns) await removeKeys(conn, p, found, dryRun);
    } finally {
      await conn.close();
    }
    for (const key of found) {
      const [group, kind] = classify(key, prefix);
      const kinds = report.keys.get(group) ?? new Map<string, number>();
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      report.keys.set(group, kinds);
    }
    report.keyCount = found.size;
  }
  if (target.storageUrl !== undefined) {
    const storage = new Storage(target.storageUrl);
    try {
      for await (const entry of storage.list(storageNamespace(prefix, session))) report.objects.push(entry.key);
      if (!dryRun) {
        for (let i = 0; i < report.objects.length; i += SCAN_COUNT) await storage.delete(...report.objects.slice(i, i + SCAN_COUNT));
      }
    } finally {
      await storage.close();
    }
  }
  return report;
}

/** `lock 2, queue 1` (largest first). */
function kindsText(kinds: Map<string, number>): string {
  return [...kinds].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `${k} ${n}`).join(", ");
}

/** The report as lines for the terminal. */
function describeReport(target: CleanTarget, report: CleanReport): string[] {
  const verb = target.dryRun ? "would remove" : "removed";
  const lines: string[] = [];
  const where = `prefix "${target.prefix}"`;
  if (target.redisUrl === undefined) {
    lines.push("no Redis configured (set SKYPOOL_REDIS_URL or pass --redis URL): no keys removed; a program's private redis-server goes away with it");
  } else {
    const on = redactUrl(target.redisUrl);
    if (target.session !== undefined) {
      const kinds = report.keys.get(target.session) ?? new Map<string, number>();
      lines.push(`${verb} ${report.keyCount} keys of session ${target.session} under ${where} on ${on}${report.keyCount > 0 ? ` (${kindsText(kinds)})` : ""}`);
    } else {
      lines.push(`${verb} ${report.keyCount} keys under ${where} on ${on}${report.keyCount > 0 ? ":" : ""}`);
      for (const [group, kinds] of [...report.keys].sort((a, b) => a[0].localeCompare(b[0]))) {
        const n = [...kinds.values()].reduce((a, b) => a + b, 0);
        lines.push(`  ${group}: ${n} (${kindsText(kinds)})`);
      }
    }
  }
  if (target.storageUrl !== undefined) {
    const under = `${target.storageUrl.replace(/\/?$/, "/")}${storageNamespace(target.prefix, target.session)}`;
    lines.push(`${verb} ${report.objects.length} storage objects under ${under}`);
  }
  return lines;
}

/** Applies a command-line setting through the config's own checks, the message naming the option. */
function setOption(flag: string, update: ConfigUpdate): void {
  try {
    config.set(update);
  } catch (err) {
    throw new SkypoolError(`${flag}: ${(err as Error).message.replace(/^config\.[\w.]+ /, "")}`, { cause: err });
  }
}

interface CleanFlags {
  all?: boolean;
  session?: string;
  redis?: string;
  prefix?: string;
  storage?: string;
  dryRun?: boolean;
}

/** The target the flags, environment and configuration name. */
function targetOf(flags: CleanFlags): CleanTarget {
  if (flags.redis !== undefined) setOption("--redis", { redis: { url: flags.redis } });
  if (flags.prefix !== undefined) setOption("--prefix", { redis: { prefix: flags.prefix } });
  if (flags.storage !== undefined) setOption("--storage", { storage: { url: flags.storage } });
  const cfg = config.get();
  if (flags.all && flags.session !== undefined) throw new SkypoolError("pass --all or --session, not both");
  const session = flags.all ? undefined : flags.session ?? (process.env.SKYPOOL_SESSION || undefined);
  if (!flags.all && session === undefined) {
    throw new SkypoolError(
      `no session to clean: pass --session ID (the SKYPOOL_SESSION of the program run), set SKYPOOL_SESSION, or pass --all for every session under prefix "${cfg.redis.prefix}"`,
    );
  }
  if (session !== undefined && (session === "" || /[:\s/]/.test(session))) {
    throw new SkypoolError(`session must be a non-empty id without ':', '/' or spaces, got ${JSON.stringify(session)}`);
  }
  const storageUrl = cfg.storage.url;
  if (storageUrl !== undefined && storageScheme(storageUrl) === "http") {
    throw new SkypoolError(`storage ${storageUrl} is read-only http(s) storage, which cannot list objects: pass --storage with a file: or s3:// URL`);
  }
  return { redisUrl: cfg.redis.url, prefix: cfg.redis.prefix, session, storageUrl, dryRun: flags.dryRun ?? false };
}

/**
 * The `clean` command.
 *
 * @example
 * ```ts
 * import { cleanCommand } from "./src/cli/clean_command.ts";
 * console.assert(cleanCommand().name() === "clean");
 * ```
 */
export function cleanCommand(): Command {
  return new Command("clean")
    .summary("remove a program run's Redis keys and storage objects")
    .description(
      "Remove a program run's Redis keys ({prefix}:{session}:…) and its storage objects ({prefix}/{session}/), " +
        "or every session's under the prefix with --all. Redis from --redis or SKYPOOL_REDIS_URL; " +
        "storage from --storage or SKYPOOL_STORAGE (left alone when neither is set).",
    )
    .option("--all", "every session under the prefix")
    .option("--session <id>", "the session to clean (default: SKYPOOL_SESSION)")
    .option("--redis <url>", "the Redis URL (default: SKYPOOL_REDIS_URL / config redis.url)")
    .option("--prefix <name>", "the key prefix (default: config redis.prefix)")
    .option("--storage <url>", "the storage URL (default: SKYPOOL_STORAGE / config storage.url)")
    .option("--dry-run", "list what would be removed, remove nothing")
    .action(async (flags: CleanFlags, cmd: Command) => {
      const target = targetOf(flags);
      if (target.redisUrl === undefined && target.storageUrl === undefined) {
        throw new SkypoolError("nothing to clean: no Redis configured (set SKYPOOL_REDIS_URL or pass --redis URL) and no storage (SKYPOOL_STORAGE or --storage URL)");
      }
      const report = await cleanNamespace(target);
      const write = cmd.configureOutput().writeOut ?? ((s: string) => void process.stdout.write(s));
      for (const line of describeReport(target, report)) write(`${line}\n`);
    });
}
