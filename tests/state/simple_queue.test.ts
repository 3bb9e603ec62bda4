import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SimpleQueue } from "../../src/state/simple_queue.ts";
import { handleFromRecord, handleRecord } from "../../src/state/handle.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { SerializationError, StateError } from "../../src/errors.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";
import { setUpRedis, tearDownRedis } from "../helpers/state_setup.ts";

function twin<T>(q: SimpleQueue<T>): SimpleQueue<T> {
  return handleFromRecord("simplequeue", JSON.parse(JSON.stringify(handleRecord(q)))) as SimpleQueue<T>;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isClosed = (e: unknown) => e instanceof StateError && /is closed/.test(e.message);

let server: TestRedisServer;

describe("SimpleQueue", () => {
  before(async () => {
    server = await setUpRedis();
  });
  after(async () => {
    await tearDownRedis(server);
  });

  test("SQ-01: after close, empty() is a StateError even if the queue was never used", async () => {
    const q = new SimpleQueue();
    q.close();
    await assert.rejects(q.empty(), isClosed);
    await assert.rejects(q.put(1), isClosed);
    await assert.rejects(q.get(), isClosed);
  });

  test("SQ-02: empty() as another handle fills and drains the queue", async () => {
    const q = new SimpleQueue<boolean>();
    assert.equal(await q.empty(), true);
    const other = twin(q);
    await other.put(await other.empty());
    await other.put(await other.empty());
    assert.equal(await q.empty(), false);
    assert.equal(await q.get(), true);
    assert.equal(await q.get(), false);
    assert.equal(await q.empty(), true);
  });

  test("SQ-03: closing twice does not fail, and leaves the queue to other handles", async () => {
    const q = new SimpleQueue<string>();
    await q.put("kept");
    q.close();
    q.close();
    assert.equal(await twin(q).get(), "kept");
  });

  test("get waits in Redis until an item arrives, in FIFO order", async () => {
    const q = new SimpleQueue<number>();
    const t0 = performance.now();
    const pending = q.get();
    await delay(150);
    const producer = twin(q);
    await producer.put(1);
    await producer.put(2);
    assert.equal(await pending, 1);
    assert.ok(performance.now() - t0 >= 100);
    assert.equal(await q.get(), 2);
  });

  test("an unserializable item throws and puts nothing", async () => {
    const q = new SimpleQueue<unknown>();
    await assert.rejects(q.put(Symbol("no")), SerializationError);
    assert.equal(await q.empty(), true);
  });

  test("travels through the codec; await using closes the handle", async () => {
    const q = new SimpleQueue<string>();
    const copy = decode(encode(q)) as SimpleQueue<string>;
    assert.ok(copy instanceof SimpleQueue);
    await copy.put("via codec");
    {
      await using scoped = q;
      assert.equal(await scoped.get(), "via codec");
    }
    await assert.rejects(q.empty(), isClosed);
    assert.equal(await copy.empty(), true);
  });

  test("no key is left without a TTL", async () => {
    const q = new SimpleQueue<number>();
    await q.put(1);
    await q.put(2);
    await q.get();
    assert.ok((await server.keys()).length > 0);
    assert.deepEqual(await server.keysWithoutTtl(), []);
  });
});
