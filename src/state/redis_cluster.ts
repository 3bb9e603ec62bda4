/**
 * Redis Cluster behind the same seam as one server: a cluster URL
 * (`redis+cluster://host:port,host:port`) becomes a node-redis cluster
 * client wrapped as a {@link RawClient}, so `RedisConnection` keeps one
 * command connection, a pool of dedicated ones for blocking commands and
 * a subscriber, whatever the deployment.
 *
 * node-redis routes each command to the master of its first key's slot
 * and follows MOVED/ASK. What it leaves to us: after a master dies, its
 * slots still point at the dead node until something makes it read the
 * slot map again. So a command that could not be sent (the node's client
 * is closed or offline, the connection is refused, the cluster answers
 * CLUSTERDOWN/TRYAGAIN) makes the map be read again and is sent again,
 * with a short backoff, until the replica has taken over or
 * `SKYPOOL_REDIS_TIMEOUT_MS` passed; none of those can have run, so that
 * never applies a command twice. A command whose connection dropped
 * under it also has the map read again, and is then resent or not by
 * `RedisConnection`'s usual rule (scripts run once, see `redis_script.ts`).
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { redactUrl, type RawClient } from "./redis_client.ts";

/** The subset of node-redis' cluster client used here. */
interface RawCluster {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand<T>(firstKey: string | Buffer | undefined, isReadonly: boolean, args: ReadonlyArray<string | Buffer>, options?: unknown): Promise<T>;
  subscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void>;
  destroy(): void;
  close(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly masters: NodeEntry[];
  readonly replicas: NodeEntry[];
  readonly pubSubNode?: { client: NodeClient };
  nodeClient(node: NodeEntry): Promise<NodeClient>;
  // node-redis keeps its slot map here; `rediscover` re-reads it (there is
  // no public method for this yet).
  readonly _slots: { rediscover(startWith: { options: Record<string, unknown> }): Promise<void> };
}

interface NodeClient {
  readonly isReady: boolean;
  readonly options?: Record<string, unknown>;
  sendCommand<T>(args: ReadonlyArray<string | Buffer>, options?: unknown): Promise<T>;
  ref(): void;
  unref(): void;
}

interface NodeEntry {
  host: string;
  port: number;
  client?: NodeClient;
  pubSub?: { client: NodeClient };
}

/** node-redis' `createCluster`. @internal */
export type CreateCluster = (options: Record<string, unknown>) => unknown;

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/;

/**
 * Whether `url` names a Redis Cluster (`redis+cluster://` or
 * `rediss+cluster://` with one or more `host:port` seed nodes).
 *
 * @example
 * ```ts
 * import { isClusterUrl } from "./src/state/redis_cluster.ts";
 * console.assert(isClusterUrl("redis+cluster://10.0.0.1:7000,10.0.0.2:7000"));
 * console.assert(!isClusterUrl("redis://10.0.0.1:6379"));
 * ```
 */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//.test(url);
}

/**
 * The seed nodes of a cluster URL as plain node URLs (credentials and TLS
 * apply to every node).
 *
 * @throws {TypeError} for a URL that is not a well-formed cluster URL.
 * @example
 * ```ts
 * import { clusterSeeds } from "./src/state/redis_cluster.ts";
 * const seeds = clusterSeeds("redis+cluster://u:pw@h1:7000,h2:7001");
 * console.assert(seeds.length === 2 && seeds[1] === "redis://u:pw@h2:7001");
 * ```
 */
export function clusterSeeds(url: string): string[] {
  const m = CLUSTER_URL.exec(url);
  const hosts = m?.[3].split(",").map((h) => h.trim()) ?? [];
  if (m === null || hosts.length === 0 || hosts.some((h) => !/^(\[[0-9a-fA-F:.]+\]|[^:\s,]+):\d+$/.test(h))) {
    throw new TypeError(
      `malformed Redis Cluster URL ${JSON.stringify(redactUrl(url))}: use redis+cluster://[user:pass@]host:port[,host:port…] ` +
        "(rediss+cluster:// for TLS; no database number: a cluster has only database 0)",
    );
  }
  const auth = m[2] ? `${m[2]}@` : "";
  return hosts.map((h) => `${m[1]}://${auth}${h}`);
}

// Messages (anywhere in the cause chain) of failures to send a command at
// all: it cannot have run, so sending it again is always safe.
const UNSENT = /^(The client is (closed|offline)|Connection timeout|All the root nodes are unavailable|CLUSTERDOWN|TRYAGAIN|MASTERDOWN)|\bECONNREFUSED\b|\bEHOSTUNREACH\b/;
const DROPPED = /Socket closed unexpectedly|\bECONNRESET\b|\bEPIPE\b/;

function matches(err: unknown, pattern: RegExp): boolean {
  for (let e = err as { message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (pattern.test(String(e.message))) return true;
  }
  return false;
}

// Commands without a key (sent to any node); every other command this
// package sends has its first key first, except scripts.
const KEYLESS = new Set(["PING", "INFO", "TIME", "SCAN", "WAIT", "CLUSTER", "SCRIPT", "CONFIG", "DBSIZE", "CLIENT", "READONLY"]);

/**
 * The key a command is routed by: a script's first key, a stream read's
 * first stream, the first key of `BLMPOP`/`LMPOP`, the key of an
 * `XGROUP`/`XINFO` subcommand, else the first argument (`undefined` for
 * keyless commands).
 * @internal
 */
export function routingKey(args: ReadonlyArray<string | Buffer>): string | Buffer | undefined {
  const name = String(args[0]).toUpperCase();
  if (name === "EVALSHA" || name === "EVAL") return Number(args[2]) > 0 ? args[3] : undefined;
  if (name === "XREAD" || name === "XREADGROUP") {
    const at = args.findIndex((a, i) => i > 0 && String(a).toUpperCase() === "STREAMS");
    return at > 0 ? args[at + 1] : undefined;
  }
  // Commands whose first key is not their first argument.
  if (name === "BLMPOP" || name === "BZMPOP") return args[3];
  if (name === "LMPOP" || name === "ZMPOP" || name === "XGROUP" || name === "XINFO") return args[2];
  return KEYLESS.has(name) ? undefined : args[1];
}

/**
 * A node-redis cluster client presented as one {@link RawClient}.
 * @internal
 */
export class ClusterClient implements RawClient {
  readonly #cluster: RawCluster;
  readonly #seeds: string[];
  readonly #retryMs: number;
  #refd = true;
  #closed = false;
  /** A drop does not end this client: the next command finds the slot's current master. */
  readonly routesAround = true;

  /**
   * @param createCluster node-redis' `createCluster`.
   * @param url the cluster URL.
   * @param nodeOptions client options for every node (socket timeouts, name…).
   * @param minimizeConnections connect to a node only when a command needs it (dedicated connections).
   * @param retryMs how long a command that could not be sent keeps being tried (a failover's length).
   */
  constructor(createCluster: CreateCluster, url: string, nodeOptions: Record<string, unknown>, minimizeConnections: boolean, retryMs: number) {
    this.#seeds = clusterSeeds(url);
    this.#retryMs = retryMs;
    const socket = {
      ...(nodeOptions.socket as Record<string, unknown>),
      // A node's client tries again until the slot map no longer lists the
      // node (then node-redis closes it): a master that died and came back
      // as a replica is reached again.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
    };
    this.#cluster = createCluster({
      rootNodes: this.#seeds.map((u) => ({ url: u })),
      defaults: { ...nodeOptions, socket, disableOfflineQueue: true },
      minimizeConnections,
    }) as RawCluster;
    // Node errors (a master that died) are reported through the commands
    // that meet them; without a listener they would crash the process.
    this.#cluster.on("node-error", () => {});
  }

  get isReady(): boolean {
    return this.#cluster.isOpen && !this.#closed;
  }

  get isOpen(): boolean {
    return this.#cluster.isOpen && !this.#closed;
  }

  async connect(): Promise<unknown> {
    await this.#cluster.connect();
    this.#applyRef();
    return this;
  }

  async sendCommand<T>(args: ReadonlyArray<string | Buffer>, options?: unknown): Promise<T> {
    const key = routingKey(args);
    const since = performance.now();
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#cluster.sendCommand<T>(key, false, args, options);
      } catch (err) {
        const unsent = matches(err, UNSENT);
        if (!unsent && !matches(err, DROPPED)) throw err;
        if (this.#closed || !unsent || performance.now() - since > this.#retryMs) {
          void this.#rediscover();
          throw err;
        }
        await new Promise((r) => setTimeout(r, Math.min(25 * 2 ** attempt, 250)));
        await this.#rediscover();
        // The slot map may name new nodes: their clients get our ref state.
        this.#applyRef();
      }
    }
  }

  // Reads the slot map again, from a node that answers (else the seeds).
  #rediscovering?: Promise<void>;
  #rediscover(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#rediscovering ??= (async () => {
      const live = [...this.#cluster.replicas, ...this.#cluster.masters].find((n) => n.client?.isReady);
      const start = live !== undefined ? { socket: { host: live.host, port: live.port } } : { url: this.#seeds[0] };
      try {
        await this.#cluster._slots.rediscover({ options: start });
      } catch {
        // No node answers yet: the next attempt tries again.
      }
    })().finally(() => (this.#rediscovering = undefined));
    return this.#rediscovering;
  }

  /** The clients of the current masters (to run a keyless command such as SCAN on each). */
  async masterClients(): Promise<NodeClient[]> {
    return await Promise.all(this.#cluster.masters.map((m) => this.#cluster.nodeClient(m)));
  }

  subscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void> {
    return this.#cluster.subscribe(channel, listener, bufferMode).finally(() => this.#applyRef());
  }

  unsubscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, bufferMode: true): Promise<void> {
    return this.#cluster.unsubscribe(channel, listener, bufferMode);
  }

  // Node clients appear as commands need them: each gets the current state
  // at the next ref()/unref(), which `RedisConnection` calls around every
  // command (ref before the first one waits, unref after the last).
  #applyRef(): void {
    const c = this.#cluster;
    for (const n of [...c.masters, ...c.replicas]) {
      if (n.client) this.#refd ? n.client.ref() : n.client.unref();
      if (n.pubSub) this.#refd ? n.pubSub.client.ref() : n.pubSub.client.unref();
    }
    const sub = c.pubSubNode?.client;
    if (sub) this.#refd ? sub.ref() : sub.unref();
  }

  ref(): void {
    this.#refd = true;
    this.#applyRef();
  }

  unref(): void {
    this.#refd = false;
    this.#applyRef();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#cluster.destroy();
    } catch {
      // not open
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.#cluster.close();
  }

  on(event: string, listener: (...args: unknown[]) => void): unknown {
    // A cluster client has no "ready" of its own: it is ready once connected.
    return this.#cluster.on(event === "ready" ? "connect" : event, listener);
  }
}
