// `npm run bench -- state`: latency of skypool's Redis-backed primitives,
// each as a multiple of the Redis PING round trip measured in the same run
// with the same client (redis.ts's shared command connection).
//
// Without arguments this is the orchestrator (run compiled, on Node, by
// bench/run.mjs). It starts its own redis-server on a free port, then
// measures, in rounds that interleave the workloads so that the machine's
// noise falls on all of them alike:
// - PING on the command connection;
// - an uncontended Lock acquire + release;
// - a Queue put + get;
// - Event.isSet;
// - the wake-up of a Semaphore.acquire blocked in Redis, after a release
//   from another process (`--child releaser`), on the machine-wide
//   monotonic clock (process.hrtime) that both processes read;
// - the throughput of one Lock contended by 4 processes (`--child contender`).
// It also counts, with MONITOR, the commands each operation sends (round
// trips) and runs inside its scripts, which is where a missed criterion
// is diagnosed. It writes bench/results/state.{md,json}. Then it runs the
// Redis Cluster part (bench/lib/state_cluster.ts: state_cluster.{md,json}).
//
// Child protocol: one JSON command per stdin line; one `@@bench {json}`
// line per answer on stdout.
import { spawn, type ChildProcess } from "node:child_process";
import { cpus, loadavg, release, totalmem, type as osType } from "node:os";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "npm:redis@^5.8.0";
import { config, Event, Lock, Queue, Semaphore } from "../mod.ts";
import { handleFromRecord, handleRecord, type HandleRecord } from "../src/state/handle.ts";
import { authkeyEnvironment } from "../src/task/authkey.ts";
import { closeAllConnections, contextFor, type RedisContext } from "../src/state/redis.ts";
import { SEM_RELEASE } from "../src/state/lua/semaphore.ts";
import { startRedisServer, type TestRedisServer } from "../tests/helpers/redis_server.ts";
import { median, repoRoot } from "./lib/bench_support.ts";
import { writeResults } from "./lib/results.ts";
import { interleavedSamples, primitiveOps, usSince } from "./lib/round_trips.ts";
import { benchCluster } from "./lib/state_cluster.ts";

const PREFIX = "@@bench ";
const isDeno = "Deno" in globalThis;
const now = (): bigint => process.hrtime.bigint();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
};

// ---------------------------------------------------------------------------
// Children

function say(reply: unknown): void {
  process.stdout.write(PREFIX + JSON.stringify(reply) + "\n");
}

async function child(role: string): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  let sem: Semaphore | undefined;
  let lock: Lock | undefined;
  for await (const line of lines) {
    const cmd = JSON.parse(line) as { op: string; record?: HandleRecord; ms?: number };
    if (cmd.op === "setup" && role === "releaser") {
      sem = handleFromRecord("semaphore", cmd.record) as Semaphore;
      await sem.getValue(); // connect and load the scripts before any sample
      say({ ready: true });
    } else if (cmd.op === "release") {
      const t0 = now();
      await sem!.release();
      say({ t0: String(t0), releaseUs: usSince(t0) });
    } else if (cmd.op === "ping") {
      const ctx = contextFor(sem!.location);
      const t0 = now();
      await ctx.command(["PING"]);
      say({ pingUs: usSince(t0) });
    } else if (cmd.op === "setup" && role === "contender") {
      lock = handleFromRecord("lock", cmd.record) as Lock;
      await lock.acquire();
      await lock.release();
      say({ ready: true });
    } else if (cmd.op === "contend") {
      const deadline = now() + BigInt(Math.round(cmd.ms! * 1e6));
      const t0 = now();
      let count = 0;
      while (now() < deadline) {
        await lock!.acquire();
        await lock!.release();
        count++;
      }
      say({ count, elapsedMs: usSince(t0) / 1000 });
    } else if (cmd.op === "quit") {
      break;
    }
  }
  lines.close();
  await closeAllConnections();
  process.exit(0);
}

interface Child {
  proc: ChildProcess;
  ask(cmd: Record<string, unknown>): Promise<Record<string, unknown>>;
  quit(): Promise<void>;
}

function startChild(role: string, redisUrl: string): Child {
  const self = fileURLToPath(import.meta.url);
  const args = isDeno ? ["run", "-A", self, "--child", role] : [self, "--child", role];
  const proc = spawn(process.execPath, args, {
    stdio: ["pipe", "pipe", "inherit"],
    // The children rebuild handles from signed records: they need our authkey.
    env: { ...process.env, ...authkeyEnvironment(), SKYPOOL_REDIS_URL: redisUrl, SKYPOOL_NO_EMBEDDED: "1" },
  });
  const waiting: Array<(r: Record<string, unknown>) => void> = [];
  const failed: Array<(e: Error) => void> = [];
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    if (!line.startsWith(PREFIX)) return void process.stderr.write(line + "\n");
    failed.shift();
    waiting.shift()?.(JSON.parse(line.slice(PREFIX.length)));
  });
  const exited = new Promise<void>((resolve) =>
    proc.once("exit", (code) => {
      for (const f of failed.splice(0)) f(new Error(`bench child ${role} exited (${code})`));
      resolve();
    })
  );
  return {
    proc,
    ask(cmd) {
      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        failed.push(reject);
        proc.stdin!.write(JSON.stringify(cmd) + "\n");
      });
    },
    async quit() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.stdin!.write(JSON.stringify({ op: "quit" }) + "\n");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Orchestrator

interface Stat {
  medianUs: number;
  p10Us: number;
  p90Us: number;
  n: number;
}

const stat = (xs: readonly number[]): Stat => ({ medianUs: median(xs), p10Us: quantile(xs, 0.1), p90Us: quantile(xs, 0.9), n: xs.length });

interface Diagnosis {
  /** Median time between two commands of one client (µs, MONITOR clock). */
  gapUs: number;
  /** Round trips per operation (commands sent, pipelined ones counted once). */
  roundTrips: number;
  /** Commands the client sent per operation. */
  commands: number;
  /** Commands run inside Lua scripts per operation. */
  inScripts: number;
  /** The commands sent by one operation. */
  sent: string[];
  /** Server time per operation (INFO commandstats, µs). */
  serverUs: number;
}

/**
 * Parses `INFO commandstats` into the server µs spent in the commands named
 * (those sent at top level). A script's own time already includes the
 * commands it runs, which commandstats also count under their own names:
 * summing every line would count them twice.
 */
function serverUsec(info: string, topLevel: ReadonlySet<string>): number {
  let usec = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm)) {
    if (topLevel.has(m[1].toUpperCase())) usec += Number(m[2]);
  }
  return usec;
}

/**
 * What one operation costs Redis: the commands it sends and runs inside
 * scripts (MONITOR, on a separate connection, over `runs` operations), and
 * the server time of the commands it sends (commandstats over 10 × `runs`
 * operations, without MONITOR).
 */
async function diagnose(server: TestRedisServer, runs: number, op: () => Promise<unknown>, pipelinedUs = 0): Promise<Diagnosis> {
  const admin = createClient({ url: server.url });
  admin.on("error", () => {});
  await admin.connect();
  try {
    const monitor = createClient({ url: server.url });
    monitor.on("error", () => {});
    await monitor.connect();
    const seen: string[] = [];
    await monitor.monitor((line: string) => seen.push(line));
    await sleep(50);
    seen.length = 0;
    for (let i = 0; i < runs; i++) await op();
    await sleep(100);
    monitor.destroy();
    const top = seen.filter((l) => !/\[\d+ lua\]/.test(l));
    const lua = seen.length - top.length;
    const name = (l: string) => /"([A-Za-z]+)"/.exec(l)?.[1]?.toUpperCase() ?? "?";
    // Pipelined commands (sent in one write) reach Redis together: a command
    // from the same client less than `pipelinedUs` after the previous one
    // rode the same round trip (a real one takes a whole PING cycle).
    let trips = 0;
    let last = { client: "", ts: -Infinity };
    const gaps: number[] = [];
    for (const l of top) {
      const ts = Number(l.slice(0, l.indexOf(" "))) * 1e6;
      const client = /\[\d+ ([^\]]+)\]/.exec(l)?.[1] ?? "";
      if (client === last.client) gaps.push(ts - last.ts);
      if (!(client === last.client && ts - last.ts < pipelinedUs)) trips++;
      last = { client, ts };
    }

    await admin.sendCommand(["CONFIG", "RESETSTAT"]);
    for (let i = 0; i < runs * 10; i++) await op();
    const stats = String(await admin.sendCommand(["INFO", "commandstats"]));
    const serverUs = serverUsec(stats, new Set(top.map(name))) / (runs * 10);
    return {
      roundTrips: trips / runs,
      gapUs: gaps.length > 0 ? median(gaps) : NaN,
      commands: top.length / runs,
      inScripts: lua / runs,
      sent: top.slice(0, Math.round(top.length / runs)).map(name),
      serverUs,
    };
  } finally {
    admin.destroy();
  }
}

/**
 * Splits wake-ups with MONITOR's server timestamps: from the release
 * script's arrival at Redis to the arrival of a marker (ECHO) that the
 * woken process sends as soon as `acquire()` resolved, and the commands
 * that process sent in between (the round trips of the wake-up itself).
 */
async function wakeSplit(
  server: TestRedisServer,
  samples: number,
  sample: (marker: string) => Promise<unknown>,
  releaseSha: string,
): Promise<{ gapsUs: number[]; commandsBetween: number[] }> {
  const monitor = createClient({ url: server.url });
  monitor.on("error", () => {});
  await monitor.connect();
  const seen: string[] = [];
  await monitor.monitor((line: string) => seen.push(line));
  await sleep(50);
  const marker = "skypool-bench-woken";
  for (let i = 0; i < samples; i++) await sample(marker);
  await sleep(100);
  monitor.destroy();
  const gapsUs: number[] = [];
  const commandsBetween: number[] = [];
  let releasedAt: number | undefined;
  let releaser = "";
  let between = 0;
  for (const line of seen) {
    if (/\[\d+ lua\]/.test(line)) continue;
    const ts = Number(line.slice(0, line.indexOf(" ")));
    const client = /\[\d+ ([^\]]+)\]/.exec(line)?.[1] ?? "";
    if (line.includes(`"${releaseSha}"`)) {
      releasedAt = ts;
      releaser = client;
      between = 0;
    } else if (releasedAt !== undefined && line.includes(`"${marker}"`)) {
      gapsUs.push((ts - releasedAt) * 1e6);
      commandsBetween.push(between);
      releasedAt = undefined;
    } else if (releasedAt !== undefined && client !== releaser) {
      between++;
    }
  }
  return { gapsUs, commandsBetween };
}

function machine(): { cpu: string; cores: number; memoryGiB: number; os: string } {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? "unknown",
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
  };
}

async function orchestrate(): Promise<void> {
  const started = new Date();
  const load0 = loadavg();
  const server: TestRedisServer = await startRedisServer();
  config.set({ redis: { url: server.url } });
  const children: Child[] = [];
  try {
    const info = String(await server.command<string>(["INFO", "server"]));
    const redisVersion = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
    const lock = new Lock();
    const queue = new Queue<number>();
    const event = new Event();
    const ctx: RedisContext = contextFor(lock.location);

    const ops: Record<string, () => Promise<unknown>> = { ...primitiveOps(lock, queue), isSet: () => event.isSet() };
    // BENCH_ROUNDS (scripts/bench_all.sh --quick) shortens a run.
    const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
    const batch = 100;
    // Warm-up: connections, script cache (EVALSHA hits), JIT.
    const samples = await interleavedSamples(ops, { warmup: 300, rounds, batch });

    // Wake-up of a blocked Semaphore.acquire after a release from another process.
    const sem = new Semaphore(0);
    const releaser = startChild("releaser", server.url);
    children.push(releaser);
    await releaser.ask({ op: "setup", record: handleRecord(sem) });
    const wake: number[] = [];
    const releaseUs: number[] = [];
    const idlePingB: number[] = [];
    const idlePingA: number[] = [];
    const afterReturn: number[] = [];
    const wakeSample = async (marker?: string): Promise<[number, number]> => {
      let acquiredAt = 0n;
      const acquired = sem.acquire().then(async () => {
        acquiredAt = now();
        if (marker !== undefined) await ctx.command(["ECHO", marker]);
      });
      // Release only once the acquirer waits in Redis (a blocked client).
      for (let tries = 0; ; tries++) {
        const clients = String(await ctx.command<string>(["INFO", "clients"]));
        if (Number(/blocked_clients:(\d+)/.exec(clients)?.[1] ?? 0) >= 1) break;
        if (tries > 2000) throw new Error("the acquirer never blocked in Redis");
        await sleep(1);
      }
      const reply = await releaser.ask({ op: "release" });
      await acquired;
      return [Number(acquiredAt - BigInt(reply.t0 as string)) / 1000, reply.releaseUs as number];
    };
    const wakeSamples = 200;
    for (let i = 0; i < wakeSamples; i++) {
      const [wakeUs, callUs] = await wakeSample();
      wake.push(wakeUs);
      releaseUs.push(callUs);
      afterReturn.push(wakeUs - callUs);
      // PINGs sent, like the release and the woken acquire, by a process that was idle.
      idlePingB.push((await releaser.ask({ op: "ping" })).pingUs as number);
      await sleep(5);
      const t0 = now();
      await ctx.command(["PING"]);
      idlePingA.push(usSince(t0));
    }

    // One Lock contended by 4 processes.
    const contended = new Lock();
    const contenders = [0, 1, 2, 3].map(() => startChild("contender", server.url));
    children.push(...contenders);
    await Promise.all(contenders.map((c) => c.ask({ op: "setup", record: handleRecord(contended) })));
    const contendMs = 3000;
    const contendRuns: { total: number; perProcess: number[] }[] = [];
    for (let run = 0; run < 3; run++) {
      const replies = await Promise.all(contenders.map((c) => c.ask({ op: "contend", ms: contendMs })));
      const perProcess = replies.map((r) => (r.count as number) / ((r.elapsedMs as number) / 1000));
      contendRuns.push({ total: perProcess.reduce((a, b) => a + b, 0), perProcess });
    }
    const throughput = median(contendRuns.map((r) => r.total));

    // What each operation sends (round trips), runs inside its scripts, and costs the server.
    const diagSem = new Semaphore(1);
    const pingDiag = await diagnose(server, 20, () => ctx.command(["PING"]));
    // Commands closer together than a quarter of a PING-to-PING cycle were pipelined.
    const pipelinedUs = pingDiag.gapUs / 4;
    const commands: Record<string, Diagnosis> = {
      ping: pingDiag,
      lock: await diagnose(server, 20, ops.lock, pipelinedUs),
      queue: await diagnose(server, 20, ops.queue, pipelinedUs),
      isSet: await diagnose(server, 20, ops.isSet, pipelinedUs),
      semaphoreAcquireRelease: await diagnose(server, 20, async () => {
        await diagSem.acquire();
        await diagSem.release();
      }, pipelinedUs),
    };
    const wakeParts = await wakeSplit(server, 30, wakeSample, SEM_RELEASE.sha);

    const ping = stat(samples.ping);
    const criteria = [
      { id: "lock", label: "Lock acquire + release (uncontended)", stat: stat(samples.lock), max: 3 as number | undefined, diag: commands.lock },
      { id: "queue", label: "Queue put + get", stat: stat(samples.queue), max: 3, diag: commands.queue },
      { id: "isSet", label: "Event.isSet", stat: stat(samples.isSet), max: undefined, diag: commands.isSet },
      // The wake-up as a user sees it: from the moment the releasing process
      // calls release() to the moment the waiter's acquire() resolves. It
      // holds the release's own round trip, sent by a process that was idle
      // (dearer than a hot PING), and the blocked client's reply.
      { id: "wakeup", label: "Semaphore.acquire wake-up, from another process's call to release() until acquire() resolves here", stat: stat(wake), max: 4, diag: undefined },
      { id: "wakeupAfterReturn", label: "the same wake-up, counted from the return of the release call (a diagnostic: where the time after the release goes)", stat: stat(afterReturn), max: undefined, diag: undefined },
    ].map((c) => {
      const roundTrips = c.stat.medianUs / ping.medianUs;
      return { ...c, roundTrips, pass: c.max === undefined ? null : roundTrips <= c.max };
    });
    const idleA = stat(idlePingA);
    const idleB = stat(idlePingB);
    const split = stat(wakeParts.gapsUs);
    const wokenCommands = wakeParts.commandsBetween.length === 0 ? NaN : median(wakeParts.commandsBetween);

    const result = {
      generated: started.toISOString(),
      durationS: (Date.now() - started.getTime()) / 1000,
      machine: { ...machine(), loadBefore: load0, loadAfter: loadavg() },
      runtime: { node: isDeno ? undefined : process.version, deno: (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno, redis: redisVersion },
      method: {
        rounds,
        batch,
        wakeSamples,
        contendMs,
        contendRuns: contendRuns.length,
        clock: "process.hrtime (CLOCK_MONOTONIC, shared by the processes of one machine)",
      },
      ping,
      workloads: Object.fromEntries(criteria.map((c) => [c.id, { label: c.label, ...c.stat, roundTripsOfPing: c.roundTrips, maxRoundTrips: c.max ?? null, pass: c.pass }])),
      wakeup: {
        releaseCallUs: stat(releaseUs),
        fromReleaseReturnUs: stat(afterReturn),
        idlePingAcquirerUs: idleA,
        idlePingReleaserUs: idleB,
        releaseArrivalToMarkerArrivalUs: split,
        commandsSentByWokenProcessBeforeMarker: wakeParts.commandsBetween,
      },
      contendedLock: { processes: 4, opsPerSecond: throughput, runs: contendRuns },
      commandsPerOperation: commands,
    };

    const f = (x: number, d = 1) => x.toFixed(d);
    const md: string[] = [];
    md.push("# Shared-state benchmark", "");
    md.push(`Generated by \`npm run bench -- state\` (bench/state.ts) on ${result.generated}, in one run of ${f(result.durationS)} s. Do not edit by hand.`, "");
    const m = result.machine;
    md.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; load average before ${load0.map((x) => f(x, 2)).join(" ")}, after ${m.loadAfter.map((x) => f(x, 2)).join(" ")} (a shared, noisy machine).`, "");
    md.push(`Runtime: ${isDeno ? `Deno ${result.runtime.deno}` : `Node ${process.version}`}; redis-server ${redisVersion} (started by the benchmark on a free TCP port on 127.0.0.1, no persistence); node-redis 5.`, "");
    md.push(
      "Method: every latency is the median of single operations timed with `process.hrtime`. PING, Lock, Queue and isSet samples are taken in",
      `${rounds} rounds of ${batch} operations each, rotating the order every round; PING is sent on redis.ts's shared command connection, the one the`,
      "primitives use, and every row is expressed as a multiple of that PING. The wake-up is timed, on the machine-wide monotonic clock both",
      "processes read, from a `release()` in a second process to the moment `acquire()` resolves here",
      `(${wakeSamples} samples; the release is sent only once this process's acquire is a blocked client in Redis). The criterion`,
      "(\"≤ 4 round trips\") is judged on the wake-up as a user sees it: from the moment the releasing process calls `release()` to the",
      "moment the waiter's `acquire()` resolves, on one clock. It holds the release's own round trip (sent by a process that was idle,",
      "which costs more than a hot PING) and the blocked client's reply. The figure counted from the return of the release call is shown as a",
      "diagnostic only: it can be negative, since both processes get their reply from the same step of Redis.",
      `Contended throughput: 4 processes loop \`acquire(); release()\` on one Lock for ${contendMs / 1000} s (median of ${contendRuns.length} runs).`,
      "",
    );
    md.push("| operation | median | p10 – p90 | n | × PING | criterion | result |", "| --- | ---: | --- | ---: | ---: | --- | --- |");
    md.push(`| Redis PING (same client) | ${f(ping.medianUs)} µs | ${f(ping.p10Us)} – ${f(ping.p90Us)} µs | ${ping.n} | 1.00 | | |`);
    for (const c of criteria) {
      md.push(
        `| ${c.label} | ${f(c.stat.medianUs)} µs | ${f(c.stat.p10Us)} – ${f(c.stat.p90Us)} µs | ${c.stat.n} | ${f(c.roundTrips, 2)} | ${c.max === undefined ? "—" : `≤ ${c.max} round trips`} | ${c.pass === null ? "—" : c.pass ? "**pass**" : "**FAIL**"} |`,
      );
    }
    md.push("");
    md.push(`Contended Lock, 4 processes on ${m.cores} cores: **${f(throughput, 0)} acquire+release/s** in total (runs: ${contendRuns.map((r) => f(r.total, 0)).join(", ")}).`, "");

    md.push("## Where the time goes", "");
    md.push(
      "Per operation: the commands the client sends and the round trips they take (commands of one client that reach Redis less than a",
      `quarter of a PING-to-PING cycle apart, here ${f(pipelinedUs)} µs under MONITOR, were sent in one write, a pipeline, and share a round trip),`,
      "the commands run inside Lua scripts",
      "(MONITOR over 20 operations), and the server time of the commands sent (INFO commandstats over 200 operations, without MONITOR;",
      "a script's time includes the commands it runs). \"Rest\" is the median",
      "minus one PING per round trip minus the server time: client-side work (redis.ts's call path, node-redis argument and reply handling,",
      "the primitive's own JavaScript, the codec). The parts come from different samples on a noisy machine, so the split is approximate",
      "(server time includes the time Redis itself was preempted; a small negative rest is noise).",
      "",
    );
    md.push("| operation | sent | commands sent | round trips | commands inside scripts | server time | rest | median |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    const medians: Record<string, number> = { ping: ping.medianUs, lock: median(samples.lock), queue: median(samples.queue), isSet: median(samples.isSet) };
    for (const [name, c] of Object.entries(commands)) {
      const med = medians[name];
      const rest = med === undefined ? "—" : `${f(med - c.roundTrips * ping.medianUs - c.serverUs)} µs`;
      md.push(`| ${name} | ${c.sent.join(", ")} | ${f(c.commands, 2)} | ${f(c.roundTrips, 2)} | ${f(c.inScripts, 1)} | ${f(c.serverUs)} µs | ${rest} | ${med === undefined ? "—" : `${f(med)} µs`} |`);
    }
    md.push("");
    const fromCall = criteria.find((c) => c.id === "wakeup")!.stat.medianUs;
    md.push(
      `Wake-up (median ${f(fromCall)} µs from just before the release call): the release call in the releasing process took ${f(result.wakeup.releaseCallUs.medianUs)} µs,`,
      `and \`acquire()\` resolved ${f(result.wakeup.fromReleaseReturnUs.medianUs)} µs (median) after that call returned (both processes get their reply from the same step of Redis).`,
      "The release script hands the permit to the blocked acquirer itself (its lease created, a token pushed to its own wake key), so",
      `the acquirer resolves on its BLPOP's reply: it sent ${f(wokenCommands, 0)} command(s) (median) between the release's arrival at Redis and a marker it sends`,
      `once \`acquire()\` resolved, which arrived ${f(split.medianUs)} µs after the release (MONITOR timestamps, ${split.n} samples: the BLPOP reply, the`,
      "acquirer waking, and the marker's way to Redis).",
      `For comparison, a PING sent by a process that was idle just before (as both processes are here) took ${f(idleA.medianUs)} µs in this process`,
      `and ${f(idleB.medianUs)} µs in the releasing one (medians), i.e. the wake-up counted from just before the release call is ${f(fromCall / idleA.medianUs, 2)} idle PINGs.`,
      "",
    );

    writeResults(repoRoot(import.meta.url), "state", result, md.join("\n"));
  } finally {
    await Promise.all(children.map((c) => c.quit()));
    await closeAllConnections();
    await server.stop();
  }
}

const roleAt = process.argv.indexOf("--child");
if (roleAt >= 0) {
  await child(process.argv[roleAt + 1]);
} else {
  await orchestrate();
  await benchCluster();
  process.exit(0);
}
