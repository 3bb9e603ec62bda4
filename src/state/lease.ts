/**
 * The watchdog that keeps a live holder's leases alive (Redisson's lock
 * watchdog): every `leaseMs / 3` it renews, in one script call per lease
 * set, every lease this process holds there. Its timers are unref'd, so
 * holding a lock does not keep the program alive; a holder that dies
 * stops renewing and its leases expire within `leaseMs`.
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import { RENEW_LEASES, RENEW_OWNER } from "./lua/lease.ts";
import type { Buffer } from "node:buffer";
import { isConnectionDrop, type RedisContext } from "./redis.ts";
import { checkBoolean, checkOptions, checkTimeout } from "../validate.ts";
import { unrefTimer } from "../runtime/unref_timer.ts";

interface Group {
  ctx: RedisContext;
  key: string;
  members: Map<string, () => void>;
  timer?: ReturnType<typeof setInterval>;
  leaseMs: number;
  // The primitive's other keys: renewals keep them from expiring while held.
  alsoTouch: readonly string[];
  // "set": `key` is a sorted set of leases; "owner": `key` is a Lock's owner
  // key, whose own expiry is the lease of the token it holds.
  shape: "set" | "owner";
}

const groups = new Map<string, Group>();

async function renew(group: Group): Promise<void> {
  if (group.members.size === 0) {
    // Idle for a whole period: stop. (An emptied group keeps its timer until
    // then, so a loop of acquire/release does not re-arm one every time.)
    if (group.timer !== undefined) clearInterval(group.timer);
    group.timer = undefined;
    groups.delete(groupId(group.ctx, group.key));
    return;
  }
  try {
    let gone: string[];
    if (group.shape === "set") {
      gone = await group.ctx.run<string[]>(RENEW_LEASES, [group.key, ...group.alsoTouch], [group.leaseMs, ...group.members.keys()]);
    } else {
      gone = [];
      for (const member of [...group.members.keys()]) {
        if ((await group.ctx.run<number>(RENEW_OWNER, [group.key], [group.leaseMs, member])) !== 1) gone.push(member);
      }
    }
    for (const member of gone) {
      const onLost = group.members.get(member);
      forget(group, member);
      onLost?.();
    }
  } catch {
    // Redis unreachable for a moment: the next tick tries again, and the
    // lease is long enough to survive a missed renewal or two.
  }
}

function forget(group: Group, member: string): void {
  group.members.delete(member);
}

function groupId(ctx: RedisContext, key: string): string {
  return `${ctx.location.url}\u0000${key}`;
}

/**
 * Keeps `member` of the lease set `key` alive until the returned function
 * is called. `onLost` runs if a renewal finds the lease gone (someone else
 * released it, or this process stalled past its lease). Renewals also
 * refresh the expiry of `alsoTouch` (the primitive's other keys), so a
 * lock held longer than `redisExpiryTime` keeps its state.
 *
 * @example
 * ```ts
 * import { keepLease } from "./src/state/lease.ts";
 * import { defaultContext } from "./src/state/redis.ts";
 * const ctx = defaultContext();
 * const stop = keepLease(ctx, ctx.key("doc", "1", "leases"), "token-1");
 * stop();
 * ```
 */
export function keepLease(ctx: RedisContext, key: string, member: string, onLost?: () => void, alsoTouch: readonly string[] = []): () => void {
  return keep(ctx, key, member, onLost, alsoTouch, "set", ctx.leaseMs);
}

/**
 * Keeps a `Lock` owner key alive while it holds `token` (the key's expiry
 * is the lease), until the returned function is called. `onLost` runs if a
 * renewal finds another token there, or none (released by any process, or
 * this process stalled past its lease). `leaseMs` is the lease the key was
 * set with.
 *
 * @example
 * ```ts
 * import { keepOwnerLease } from "./src/state/lease.ts";
 * import { defaultContext } from "./src/state/redis.ts";
 * const ctx = defaultContext();
 * const stop = keepOwnerLease(ctx, ctx.key("doc", "1", "owner"), "token-1", ctx.leaseMs);
 * stop();
 * ```
 */
export function keepOwnerLease(ctx: RedisContext, key: string, token: string, leaseMs: number, onLost?: () => void): () => void {
  return keep(ctx, key, token, onLost, [], "owner", leaseMs);
}

function keep(
  ctx: RedisContext,
  key: string,
  member: string,
  onLost: (() => void) | undefined,
  alsoTouch: readonly string[],
  shape: "set" | "owner",
  leaseMs: number,
): () => void {
  const id = groupId(ctx, key);
  let group = groups.get(id);
  if (group === undefined) {
    group = { ctx, key, members: new Map(), leaseMs, alsoTouch, shape };
    groups.set(id, group);
  }
  const g = group;
  g.members.set(member, onLost ?? (() => {}));
  if (g.leaseMs !== leaseMs) {
    // The lease changed (config): renew with it, at its pace.
    g.leaseMs = leaseMs;
    if (g.timer !== undefined) clearInterval(g.timer);
    g.timer = undefined;
  }
  if (g.timer === undefined) {
    const every = Math.min(g.leaseMs, ctx.expirySeconds * 1000) / 3;
    g.timer = setInterval(() => void renew(g), Math.max(10, Math.floor(every)));
    unrefTimer(g.timer);
  }
  return () => {
    if (g.members.has(member)) forget(g, member);
  };
}

/** How many leases this process is renewing (tests). */
export function heldLeaseCount(): number {
  let n = 0;
  for (const g of groups.values()) n += g.members.size;
  return n;
}

/** Options of `acquire` (Lock, RLock, Semaphore, Condition). */
export interface AcquireOptions {
  /** Wait for the lock; with `false`, `timeout` is ignored. @default true */
  block?: boolean;
  /** Give up after this many ms (`undefined`: wait forever; ≤ 0: do not wait). */
  timeout?: number;
}

/**
 * Checks `{ block, timeout }` of `what` (e.g. `"Lock.acquire"`) and returns them normalised.
 * @throws {TypeError|RangeError} for options that are not an object, an unknown option, a `block` that is not a boolean, or a bad timeout.
 */
export function checkAcquireOptions(options: AcquireOptions | undefined, what: string): { block: boolean; timeout: number | undefined } {
  const o = checkOptions<AcquireOptions>(`${what} options`, options, ["block", "timeout"]);
  return { block: checkBoolean(`${what} block`, o.block ?? true), timeout: checkTimeout(`${what} timeout`, o.timeout) };
}

/**
 * The shortest time a command of a call with a timeout may take: even
 * `acquire({ timeout: 0 })` gets one round trip to try.
 */
const MIN_ATTEMPT_MS = 250;

/**
 * The `performance.now()` time by which the commands of a call with
 * `timeout` ms must have their replies (`undefined`: no timeout).
 */
export function commandDeadline(timeout: number | undefined): number | undefined {
  return timeout === undefined ? undefined : performance.now() + Math.max(timeout, MIN_ATTEMPT_MS);
}

/**
 * The blocking part of every lease-based acquire: try (one script call);
 * on failure wait in Redis (BLPOP on the primitive's wake list, pushed by
 * `release`) no longer than the time left and the time until the next
 * lease expires (a dead holder's slot frees itself then), and try again.
 * A Redis that does not answer before the timeout (frozen) makes it
 * `false` then, like a lock that stayed taken.
 *
 * @param attempt resolves `true` when acquired, else the ms until the next
 *   lease expires (negative: no lease to wait for); it must finish by the
 *   deadline it is given (a `TimeoutError` otherwise).
 */
export async function acquireLoop(
  ctx: RedisContext,
  wakeKey: string,
  attempt: (deadline: number | undefined) => Promise<true | number>,
  block: boolean,
  timeout: number | undefined,
): Promise<boolean> {
  const deadline = timeout === undefined ? undefined : performance.now() + timeout;
  const attemptBy = commandDeadline(timeout);
  try {
    while (true) {
      const result = await attempt(attemptBy);
      if (result === true) return true;
      if (!block) return false;
      let wait = deadline === undefined ? undefined : deadline - performance.now();
      if (wait !== undefined && wait <= 0) return false;
      if (result >= 0) wait = Math.min(wait ?? Infinity, result + 5);
      // A very long wait is sliced at half the key expiry: the next attempt
      // refreshes the primitive's keys.
      wait = Math.min(wait ?? Infinity, (ctx.expirySeconds * 1000) / 2);
      await blpopSurvivingDrops(ctx, wakeKey, Math.max(1, wait), attemptBy);
    }
  } catch (err) {
    if (err instanceof TimeoutError && timeout !== undefined) return false;
    throw err;
  }
}

/**
 * Blocks in Redis on `wakeKey` (BLPOP on a dedicated connection) for at
 * most `timeoutMs` (`undefined`: forever; ≤ 0: just checks). A long wait
 * is cut into slices of half the key expiry, refreshing `keep` (the
 * primitive's keys) between slices, so that a waiter that waits longer
 * than `redisExpiryTime` does not see its queue entry expire.
 *
 * @returns the value popped, or `null` on timeout.
 */
export async function waitForWake(
  ctx: RedisContext,
  wakeKey: string,
  timeoutMs: number | undefined,
  keep: readonly string[],
): Promise<string | Buffer | null> {
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  while (true) {
    const slice = (ctx.expirySeconds * 1000) / 2;
    const left = deadline === undefined ? undefined : deadline - performance.now();
    if (left !== undefined && left <= slice) {
      const got = await blpopSurvivingDrops(ctx, wakeKey, left);
      if (got === DROPPED) continue;
      return got === null ? null : got[1];
    }
    const got = await blpopSurvivingDrops(ctx, wakeKey, slice);
    if (got !== null && got !== DROPPED) return got[1];
    await ctx.touch(keep);
  }
}

const DROPPED = Symbol("dropped");

/**
 * BLPOP on one wake key, where a connection that drops under the wait (a
 * Redis restart, a cluster master that died) ends it as {@link DROPPED}
 * instead of failing the caller, whose loop then checks the state again
 * and waits anew (on a cluster, on the replica that took over).
 */
async function blpopSurvivingDrops(
  ctx: RedisContext,
  wakeKey: string,
  timeoutMs: number,
  deadline?: number,
): Promise<[string, string | Buffer] | null | typeof DROPPED> {
  try {
    return await ctx.blpop([wakeKey], timeoutMs, deadline === undefined ? {} : { deadline });
  } catch (err) {
    if (!isConnectionDrop(err)) throw err;
    return DROPPED;
  }
}

const processTag = crypto.randomUUID().slice(0, 8);
let tokenCounter = 0;

/** A token unique across processes, naming one lease or one waiter. */
export function newToken(): string {
  return `${processTag}.${(++tokenCounter).toString(36)}`;
}
