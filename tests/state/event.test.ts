import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Event } from "../../mod.ts";
import { handleFromRecord, handleRecord } from "../../src/state/handle.ts";
import { runChild } from "../helpers/child.ts";
import { LOOSE, setUpRedis, since, sleep, SLACK, tearDownRedis, wire } from "../helpers/state_setup.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";

let server: TestRedisServer;

const copy = (ev: Event) => handleFromRecord("event", handleRecord(ev)) as Event;

describe("Event", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(() => tearDownRedis(server));

  test("starts clear; wait times out; set makes wait true at once (EVT-01, LT-EVT-03)", async () => {
    const ev = new Event();
    assert.equal(await ev.isSet(), false);
    let t0 = performance.now();
    assert.equal(await ev.wait(0), false);
    assert.ok(since(t0) < 400);
    t0 = performance.now();
    assert.equal(await ev.wait(250), false);
    const took = since(t0);
    assert.ok(took >= 250 - SLACK && took < 250 + LOOSE, `took ${took}`);
    await ev.set();
    assert.equal(await ev.isSet(), true);
    t0 = performance.now();
    assert.equal(await ev.wait(), true);
    assert.equal(await ev.wait(250), true);
    assert.ok(since(t0) < 400);
    await ev.clear();
    assert.equal(await ev.isSet(), false);
    await assert.rejects(ev.wait("1" as unknown as number), TypeError);
  });

  test("a set from another process wakes wait() (EVT-01)", async () => {
    const ev = new Event();
    const child = runChild("event-set", { event: wire(ev), ms: 200 });
    assert.equal(await ev.wait(30_000), true);
    assert.equal(await child.exited, 0);
    assert.equal(await ev.isSet(), true);
  });

  test("set wakes every waiter, twice in a row (LT-EVT-01)", async () => {
    const ev = new Event();
    const waiters = Array.from({ length: 5 }, () => copy(ev));
    const first = Promise.all(waiters.map((w) => w.wait(10_000)));
    await sleep(200);
    await ev.set();
    assert.deepEqual(await first, [true, true, true, true, true]);
    assert.deepEqual(await Promise.all(waiters.map((w) => w.wait(10_000))), [true, true, true, true, true]);
  });

  test("set() followed at once by clear() still wakes every current waiter (LT-EVT-02)", async () => {
    const ev = new Event();
    const waiters = Array.from({ length: 5 }, () => copy(ev).wait(10_000));
    const child = runChild("event-wait", { event: wire(ev), timeout: 10_000 });
    await child.waitForLine("waiting");
    await sleep(300);
    await ev.set();
    await ev.clear();
    assert.deepEqual(await Promise.all(waiters), [true, true, true, true, true]);
    await child.waitForLine("woken true");
    assert.equal(await ev.isSet(), false);
    // The pulse is over: a new waiter is not woken by it.
    assert.equal(await ev.wait(100), false);
  });

  test("the flag is shared with another process (EVTMGR-01)", async () => {
    const ev = new Event();
    await ev.set();
    const child = runChild("event-wait", { event: wire(ev), timeout: 5000 });
    await child.waitForLine("woken true");
    assert.equal(await child.exited, 0);
  });
});
