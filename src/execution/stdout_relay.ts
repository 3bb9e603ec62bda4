/**
 * `STREAM_STDOUT`, the caller's side: worker lines arrive through Redis
 * pub/sub, on a channel of this process, and are written to this
 * process's stdout as they come, as the worker printed them (no prefix:
 * Lithops users read their functions' output as it was written, and
 * scripts that parse it keep working). Workers on the `local` transport
 * share the caller's terminal and need none of this; remote transports
 * hand each batch the {@link StdoutTarget} of {@link stdoutTarget}, and the
 * worker side (`src/worker/stdout_stream.ts`) publishes there.
 *
 * The subscription is made once per process, on a connection of its own
 * that never keeps the program alive (a caller whose work is done exits
 * even while subscribed); {@link closeStdoutRelay} ends it, and so does the
 * end of the process.
 *
 * @module
 */
import { config } from "../config.ts";
import { defaultLocation } from "../state/redis.ts";
import { clientOptions, loadDriver, type RawClient, redactUrl } from "../state/redis_client.ts";
import { sign } from "../task/authkey.ts";
import { nodeCrypto } from "../runtime/builtins.ts";

/**
 * Where a worker publishes the lines a batch writes to stdout: a channel
 * of the caller's Redis, signed with the caller's authkey so that a worker
 * publishes only where a caller of the same program asked it to.
 */
export interface StdoutTarget {
  /** The caller's Redis URL. */
  url: string;
  /** The key prefix (`config.redis.prefix`). */
  prefix: string;
  /** The caller's session id. */
  session: string;
  /** The channel the caller listens on. */
  channel: string;
  /** {@link STDOUT_TARGET_KIND} MAC of `[url, prefix, session, channel]` (see `sign`). */
  mac: string;
}

/** The record kind a target's MAC is made for. */
export const STDOUT_TARGET_KIND = "stdout-target";

/** The fields of a target its MAC covers, in order. */
export function stdoutTargetFields(t: StdoutTarget): string[] {
  return [t.url, t.prefix, t.session, t.channel];
}

interface Relay {
  target: StdoutTarget;
  client: RawClient;
}

let relay: Promise<Relay> | undefined;
/** Who asked for the target (pools, executors, transports) and has not released it yet. */
const holders = new Set<object>();

/** Writes one published line to this process's stdout. */
function printLine(message: Uint8Array): void {
  process.stdout.write(new TextDecoder().decode(message) + "\n");
}

async function subscribe(): Promise<Relay> {
  const { url, prefix, session } = defaultLocation();
  // One channel per caller process: two programs (or two callers of one
  // session) never print each other's workers' lines.
  const channel = `${prefix}:${session}:stdout:${nodeCrypto().randomUUID().replace(/-/g, "")}`;
  const driver = await loadDriver();
  const client = driver.createClient({
    ...clientOptions(url),
    // node-redis resubscribes after a drop; a caller whose Redis is gone
    // for good stops trying after a while rather than retrying forever.
    socket: { ...(clientOptions(url).socket as Record<string, unknown> | undefined), reconnectStrategy: (n: number) => (n > 50 ? false : Math.min(50 * 2 ** n, 1000)) },
    name: "skypool-stdout",
    disableClientInfo: true,
  });
  let reported = false;
  client.on("error", (err) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`skypool: STREAM_STDOUT: the connection to ${redactUrl(url)} failed (${(err as Error)?.message ?? err}); worker lines may be missed\n`);
  });
  await client.connect();
  await client.subscribe(channel, printLine, true);
  // The relay only listens: the program's own work decides when it ends.
  client.unref();
  const target: StdoutTarget = { url, prefix, session, channel, mac: "" };
  target.mac = sign(STDOUT_TARGET_KIND, stdoutTargetFields(target));
  return { target, client };
}

/**
 * With `STREAM_STDOUT` on (`config.setParameter(config.STREAM_STDOUT,
 * true)`), subscribes this process to its workers' stdout channel (once;
 * later calls share it) and returns where workers publish; `undefined`
 * when it is off. A `holder` (the execution core of a pool or an
 * executor, a transport) keeps the relay until it calls
 * {@link releaseStdoutRelay}; the last release closes it.
 *
 * @example
 * ```ts
 * import { stdoutTarget } from "./src/execution/stdout_relay.ts";
 * console.assert((await stdoutTarget()) === undefined); // STREAM_STDOUT is off by default
 * ```
 * @throws (rejects) {SkypoolError} when no Redis is configured and none can be started here; what connecting to Redis throws.
 */
export async function stdoutTarget(holder?: object): Promise<StdoutTarget | undefined> {
  if (!config.get().streamStdout) return undefined;
  if (holder !== undefined) holders.add(holder);
  const pending = relay ??= subscribe();
  try {
    return (await pending).target;
  } catch (err) {
    // A failed subscription is not kept: the next call tries again.
    if (relay === pending) relay = undefined;
    throw err;
  }
}

/**
 * `holder` no longer needs the relay (a pool or executor closing or
 * terminating); the relay is closed once no holder is left. Idempotent.
 *
 * @example
 * ```ts
 * import { releaseStdoutRelay } from "./src/execution/stdout_relay.ts";
 * await releaseStdoutRelay({});
 * ```
 */
export async function releaseStdoutRelay(holder: object): Promise<void> {
  if (!holders.delete(holder) || holders.size > 0) return;
  await closeStdoutRelay();
}

/**
 * Unsubscribes and closes the relay's connection (idempotent; a later
 * {@link stdoutTarget} subscribes again, on a new channel). Transports that
 * hand out targets call it when they close; nothing hangs if they do not,
 * since the connection never keeps the program alive.
 *
 * @example
 * ```ts
 * import { closeStdoutRelay } from "./src/execution/stdout_relay.ts";
 * await closeStdoutRelay();
 * ```
 */
export async function closeStdoutRelay(): Promise<void> {
  holders.clear();
  const pending = relay;
  relay = undefined;
  if (pending === undefined) return;
  let r: Relay;
  try {
    r = await pending;
  } catch {
    return;
  }
  try {
    if (r.client.isOpen) await r.client.unsubscribe(r.target.channel, printLine, true);
  } catch {
    // Gone already: closing is all that is left.
  }
  r.client.destroy();
}
