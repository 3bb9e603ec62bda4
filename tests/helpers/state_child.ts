/**
 * Child-process side of the shared-state tests (started by `child.ts`):
 * `state_child <scenario> <json payload>`. Handles arrive as
 * `{ kind, record }` and are rebuilt with `handleFromRecord`, the same
 * path the codec takes in a worker. Progress is reported as stdout lines.
 *
 * @module
 */
import { mkdirSync, rmdirSync } from "node:fs";
import process from "node:process";
import "../../src/state/lock.ts";
import "../../src/state/queue.ts";
import "../../src/state/semaphore.ts";
import "../../src/state/condition.ts";
import "../../src/state/event.ts";
import "../../src/state/barrier.ts";
import "../../src/state/queue.ts";
import { handleFromRecord, type HandleRecord } from "../../src/state/handle.ts";
import { loadDriver } from "../../src/state/redis_client.ts";
import type { Barrier } from "../../src/state/barrier.ts";
import type { Condition } from "../../src/state/condition.ts";
import type { Event } from "../../src/state/event.ts";
import type { Lock, RLock } from "../../src/state/lock.ts";
import type { Queue } from "../../src/state/queue.ts";
import type { Semaphore } from "../../src/state/semaphore.ts";

type Wire = { kind: string; record: HandleRecord };
const [scenario, raw] = process.argv.slice(2);
const payload = JSON.parse(raw ?? "{}") as Record<string, unknown>;
const h = <T>(name: string): T => {
  const w = payload[name] as Wire;
  return handleFromRecord(w.kind, w.record) as T;
};
const say = (line: string) => process.stdout.write(line + "\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const forever = () => new Promise(() => setInterval(() => {}, 1 << 30));

async function main(): Promise<void> {
  // node-redis loads on the first connection: load it before any scenario
  // reports progress, so that a reported step is followed by its Redis
  // call at once.
  await loadDriver();
  switch (scenario) {
    case "hold": {
      // Acquire and hang until killed.
      const lock = h<Lock | RLock | Semaphore>("lock");
      say(`acquired ${await lock.acquire()}`);
      await forever();
      break;
    }
    case "acquire-exit": {
      // Acquire and exit normally without releasing (leases end with the process).
      const lock = h<Lock>("lock");
      say(`acquired ${await lock.acquire()}`);
      say(`locked ${await lock.locked()}`);
      process.exit(0);
      break;
    }
    case "release-after": {
      const sem = h<Semaphore | Lock>("lock");
      await sleep(Number(payload.ms ?? 0));
      say(`release-at ${Date.now()}`);
      await sem.release();
      say("released");
      break;
    }
    case "acquire-timed": {
      const lock = h<Lock | Semaphore | RLock>("lock");
      say("trying");
      const t0 = Date.now();
      const ok = await lock.acquire({ timeout: payload.timeout as number | undefined });
      say(`acquired ${ok} ${Date.now()} ${Date.now() - t0}`);
      if (payload.release) await lock.release();
      break;
    }
    case "rlock-release": {
      const lock = h<RLock>("lock");
      try {
        await lock.release();
        say("released");
      } catch (e) {
        say(`error ${(e as Error).name}`);
      }
      break;
    }
    case "cond-wait": {
      const cond = h<Condition>("cond");
      await cond.acquire();
      say("waiting");
      const ok = await cond.wait(payload.timeout as number | undefined);
      say(`woken ${ok}`);
      await cond.release();
      break;
    }
    case "cond-notify": {
      const cond = h<Condition>("cond");
      await sleep(Number(payload.ms ?? 0));
      await cond.acquire();
      // Epoch ms on the machine's one clock, so the parent can measure the wake-up from here.
      say(`notifying at ${Date.now()}`);
      if (payload.all) await cond.notifyAll();
      else await cond.notify(Number(payload.n ?? 1));
      await cond.release();
      say("notified");
      break;
    }
    case "cond-waitfor": {
      // COND-05: the child waits for a counter kept in a Semaphore's value.
      const cond = h<Condition>("cond");
      const counter = h<Semaphore>("counter");
      await cond.acquire();
      const result = await cond.waitFor(async () => (await counter.getValue()) === Number(payload.target), payload.timeout as number | undefined);
      await cond.release();
      say(`result ${result}`);
      break;
    }
    case "event-wait": {
      const ev = h<Event>("event");
      // Connect first, so that "waiting" means one round trip from being
      // queued as a waiter (a cold start of the connection can take longer
      // than the parent's pause before it sets the flag).
      await ev.isSet();
      say("waiting");
      const ok = await ev.wait(payload.timeout as number | undefined);
      say(`woken ${ok}`);
      break;
    }
    case "event-set": {
      const ev = h<Event>("event");
      await sleep(Number(payload.ms ?? 0));
      await ev.set();
      if (payload.clear) await ev.clear();
      say("set");
      break;
    }
    case "barrier-wait": {
      const b = h<Barrier>("barrier");
      await sleep(Number(payload.delay ?? 0));
      try {
        const index = await b.wait(payload.timeout as number | undefined);
        const report = payload.report ? ` ${payload.report} ${(globalThis as Record<string, unknown>)[String(payload.report)] ?? 0}` : "";
        say(`index ${index}${report}`);
      } catch (e) {
        say(`error ${(e as Error).name}`);
      }
      break;
    }
    case "queue-barrier": {
      // Code from data: a Barrier that arrives through a Queue; its action runs here if this party completes it.
      try {
        const q = h<Queue>("queue");
        const b = await q.get({ timeout: 20_000 }) as Barrier;
        say(`index ${await b.wait(20_000)}`);
      } catch (e) {
        say(`error ${(e as Error).name}: ${(e as Error).message}`);
      }
      break;
    }
    case "barrier-loop": {
      // BAR-11: many passes; an unbounded Semaphore counts arrivals.
      const b = h<Barrier>("barrier");
      const arrivals = h<Semaphore>("arrivals");
      const n = b.parties;
      const passes = Number(payload.passes);
      for (let i = 0; i < passes; i++) {
        const before = await arrivals.getValue();
        if (before < i * n || before >= (i + 1) * n) throw new Error(`pass ${i}: ${before} arrivals before wait`);
        await arrivals.release();
        await b.wait();
        const after = await arrivals.getValue();
        if (after < (i + 1) * n) throw new Error(`pass ${i}: only ${after} arrivals after wait`);
      }
      say("done");
      break;
    }
    case "embedded": {
      // No Redis configured: the first primitive starts a private server.
      const { Lock } = await import("../../src/state/lock.ts");
      const { currentEmbeddedServer } = await import("../../src/state/embedded_server.ts");
      const lock = new Lock();
      try {
        say(`acquired ${await lock.acquire()}`);
      } catch (e) {
        say(`error ${(e as Error).name}: ${(e as Error).message}`);
        return;
      }
      const server = currentEmbeddedServer();
      await server?.ready();
      say(`server ${server?.serverPid} ${server?.dir} ${lock.location.url} ${server?.pid}`);
      await lock.release();
      if (payload.mode === "hang") await forever();
      if (payload.mode === "throw") throw new Error("boom on purpose");
      if (payload.mode === "uncaught") {
        setTimeout(() => {
          throw new Error("uncaught on purpose");
        }, 0);
        await forever();
      }
      if (payload.mode === "exit") {
        const deno = (globalThis as { Deno?: { exit(code: number): never } }).Deno;
        if (deno) deno.exit(0);
        process.exit(0);
      }
      break;
    }
    case "queue-produce": {
      // Puts 0..n-1 then "end"; a put that fails (Redis restarting) had no
      // effect, so it is tried again.
      // With `paceMs`, a pause after each put keeps the traffic going for at
      // least n × paceMs whatever the machine's speed (so that a test's
      // restarts all fall inside it).
      const q = h<Queue>("queue");
      const n = Number(payload.n);
      const pace = Number(payload.paceMs ?? 0);
      let retries = 0;
      for (let i = 0; i <= n; i++) {
        try {
          await q.put(i < n ? i : "end");
          if (i === Math.floor(n / 10)) say("producing");
          if (pace > 0) await sleep(pace);
        } catch (e) {
          say(`error ${(e as Error).message}`);
          retries++;
          i--;
          await sleep(20);
        }
      }
      say(`produced ${n} retries ${retries}`);
      break;
    }
    case "queue-consume": {
      // Gets until "end"; reports what arrived once, twice, or not at all.
      const q = h<Queue>("queue");
      const n = Number(payload.n);
      const seen = new Uint8Array(n);
      let retries = 0;
      for (;;) {
        let item;
        try {
          item = await q.get();
        } catch (e) {
          say(`error ${(e as Error).message}`);
          retries++;
          await sleep(20);
          continue;
        }
        if (item === "end") break;
        seen[item as number]++;
      }
      let duplicated = 0;
      let lost = 0;
      let count = 0;
      for (const c of seen) {
        count += c;
        if (c === 0) lost++;
        if (c > 1) duplicated += c - 1;
      }
      say(`consumed ${count} lost ${lost} duplicated ${duplicated} retries ${retries}`);
      break;
    }
    case "lock-loop": {
      // Takes the lock `n` times; inside, a directory that only one holder
      // may create proves exclusion (an overlap is counted, not fatal).
      const lock = h<Lock>("lock");
      const n = Number(payload.n);
      const marker = String(payload.marker);
      const hold = Number(payload.holdMs ?? 1);
      let overlaps = 0;
      let errors = 0;
      for (let i = 0; i < n;) {
        try {
          if (!(await lock.acquire({ timeout: 5000 }))) continue;
        } catch {
          errors++;
          await sleep(20);
          continue;
        }
        try {
          mkdirSync(marker);
        } catch {
          overlaps++;
        }
        await sleep(hold);
        try {
          rmdirSync(marker);
        } catch {
          // the other holder removed it
        }
        try {
          await lock.release();
        } catch {
          errors++;
        }
        i++;
        if (i === Math.floor(n / 10)) say("locking");
      }
      say(`locked ${n} overlaps ${overlaps} errors ${errors}`);
      break;
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

main().then(
  // "natural" mode returns without process.exit: the program must end by
  // itself (idle Redis connections and lease timers do not keep it alive).
  () => payload.mode === "natural" ? undefined : process.exit(0),
  (err) => {
    process.stderr.write(String(err?.stack ?? err) + "\n");
    process.exit(1);
  },
);
