import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { config } from "../../src/config.ts";
import { SerializationError } from "../../src/errors.ts";
import { Barrier } from "../../src/state/barrier.ts";
import { Condition } from "../../src/state/condition.ts";
import { handleFromRecord, handleRecord, type HandleRecord } from "../../src/state/handle.ts";
import { Lock, RLock } from "../../src/state/lock.ts";
import { JoinableQueue, Queue } from "../../src/state/queue.ts";
import { authkey } from "../../src/task/authkey.ts";
import { decode, encode } from "../../src/task/codec.ts";

// Records are built and checked without I/O: the URL is never connected to.
before(() => config.set({ redis: { url: `redis://127.0.0.1:${randomInt(1024, 65535)}` } }));
after(() => config.reset());

function randomText(): string {
  return randomBytes(randomInt(1, 12)).toString("base64url");
}

function refusedBecause(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof SerializationError && pattern.test(e.message);
}

describe("handle records are signed with the authkey", () => {
  test("a record rebuilds into the same object, also after a trip through JSON", () => {
    const q = new Queue(randomInt(1, 100));
    const record = JSON.parse(JSON.stringify(handleRecord(q))) as HandleRecord;
    assert.match(record.mac!, /^[A-Za-z0-9_-]{43}$/);
    const back = handleFromRecord("queue", record) as Queue;
    assert.ok(back instanceof Queue);
    assert.equal(back.id, q.id);
    assert.deepEqual(back.location, q.location);
    assert.equal(back.maxsize, q.maxsize);
  });

  test("changing any signed field of a record makes it refused", () => {
    const record = handleRecord(new Barrier(randomInt(1, 9), { timeout: randomInt(1, 10_000) }));
    const changes: Array<[string, HandleRecord]> = [
      ["url", { ...record, url: `redis://${randomText()}:6379` }],
      ["prefix", { ...record, prefix: randomText() }],
      ["session", { ...record, session: randomText() }],
      ["id", { ...record, id: randomText() }],
      ["opts", { ...record, opts: { ...record.opts, parties: (record.opts.parties as number) + 1 } }],
      ["an added option", { ...record, opts: { ...record.opts, extra: randomText() } }],
    ];
    for (const [what, changed] of changes) {
      assert.throws(() => handleFromRecord("barrier", changed), refusedBecause(/^refused a barrier handle: its authkey signature does not match/), what);
    }
  });

  test("a record without a MAC is refused, naming the kind", () => {
    const { mac: _, ...unsigned } = handleRecord(new Lock());
    assert.throws(() => handleFromRecord("lock", unsigned), refusedBecause(/^refused a lock handle: it carries no authkey signature/));
  });

  test("a record of one kind is refused as another kind", () => {
    assert.throws(() => handleFromRecord("rlock", handleRecord(new Lock())), refusedBecause(/^refused a rlock handle/));
    assert.throws(() => handleFromRecord("lock", handleRecord(new RLock())), refusedBecause(/^refused a lock handle/));
    const jq = new JoinableQueue();
    const shipped = decode(encode(jq));
    assert.ok(shipped instanceof JoinableQueue, "through the codec a JoinableQueue is signed as itself");
  });

  test("the MAC covers nested records: a Condition cannot be given another (genuine) lock", () => {
    const cond = new Condition(new Lock());
    const record = handleRecord(cond);
    const otherLock = handleRecord(new Lock());
    assert.equal((handleFromRecord("condition", record) as Condition).lock.id, cond.lock.id);
    assert.throws(
      () => handleFromRecord("condition", { ...record, opts: { ...record.opts, lock: otherLock } }),
      refusedBecause(/^refused a condition handle: its authkey signature does not match/),
    );
  });

  test("a record signed under another key is refused once the key changes", () => {
    const record = handleRecord(new Lock());
    const ours = authkey();
    config.set({ authkey: randomBytes(24).toString("base64url") });
    try {
      assert.throws(() => handleFromRecord("lock", record), refusedBecause(/does not match/));
      assert.ok(handleFromRecord("lock", handleRecord(new Lock())) instanceof Lock, "records made under the new key verify");
    } finally {
      config.set({ authkey: ours });
    }
  });
});
