// Issue 7 fault suite: a table of realistic bad arguments across every
// constructor, method and option of the API. Each one must be refused at
// the call (thrown, or rejected by the Promise the call returns) with
// exactly the error class given, and a message that names the argument or
// option and shows the bad value. Nothing may run, hang or be coerced.
// CPython's choices are followed where the semantics catalogue records
// them (POOL-16, POOLINIT-01, POOLLIFE-03, POOLSRC-03, VAL-04, ARR-05,
// CONN-10, LT-SEM-03, LITH-21, LITH-27).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Barrier,
  BoundedSemaphore,
  Condition,
  config,
  type Connection,
  type DictProxy,
  Event,
  JoinableQueue,
  type ListProxy,
  Lock,
  Manager,
  type NamespaceProxy,
  Pipe,
  Pool,
  Process,
  Queue,
  RawArray,
  RawValue,
  RLock,
  Semaphore,
  SharedArray,
  Value,
} from "../../mod.ts";
import { mul, sqr, withTimeout } from "../helpers/pool_fixtures.ts";
import { setUpRedis, tearDownRedis } from "../helpers/state_setup.ts";
import type { TestRedisServer } from "../helpers/redis_server.ts";

/** The objects the rows call methods of (made once, with one redis-server for the file). */
interface Subjects {
  pool: Pool;
  lock: Lock;
  rlock: RLock;
  sem: Semaphore;
  bsem: BoundedSemaphore;
  cond: Condition;
  event: Event;
  barrier: Barrier;
  queue: Queue;
  jqueue: JoinableQueue;
  conn: Connection;
  value: Value<"i">;
  array: SharedArray<"i">;
  manager: Manager;
  dict: DictProxy;
  list: ListProxy;
  ns: NamespaceProxy;
}

interface Row {
  /** The bad call (its source is the row's name). */
  call: (s: Subjects) => unknown;
  /** The exact class of the error. */
  error: typeof TypeError | typeof RangeError;
  /** What the message must contain: the argument's name and the value shown. */
  mentions: string[];
}

const T = TypeError;
const R = RangeError;
const noop = () => {};
const bytes = new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz");
/** A transport object with every in-process method, to break one part at a time. */
const inProcess = { kind: "in-process", name: "mine", size: 1, start: noop, runChunk: noop, close: noop, terminate: noop };

const ROWS: Row[] = [
  // ---- Pool constructor
  { call: () => new Pool(-1), error: R, mentions: ["Pool processes", "-1"] },
  { call: () => new Pool({ processes: -2 }), error: R, mentions: ["Pool processes", "-2"] },
  { call: () => new Pool(1.5), error: R, mentions: ["Pool processes", "1.5"] },
  { call: () => new Pool(NaN), error: R, mentions: ["Pool processes", "NaN"] },
  { call: () => new Pool(Infinity), error: R, mentions: ["Pool processes", "Infinity"] },
  { call: () => new Pool("2" as never), error: T, mentions: ["Pool processes", '"2"'] },
  { call: () => new Pool(2, "fast" as never), error: T, mentions: ["Pool options", '"fast"'] },
  { call: () => new Pool(2, { procesess: 3 } as never), error: T, mentions: ["Pool options", '"procesess"'] },
  { call: () => new Pool(2, { processes: 3 }), error: T, mentions: ["Pool processes", "twice"] },
  { call: () => new Pool({ processes: 2 }, { transport: "inline" }), error: T, mentions: ["Pool", "two option objects"] },
  { call: () => new Pool({ initializer: 1 as never }), error: T, mentions: ["Pool initializer", "1"] },
  { call: () => new Pool({ initializer: "setup" as never }), error: T, mentions: ["Pool initializer", '"setup"'] },
  { call: () => new Pool({ initializer: noop, initargs: "x" as never }), error: T, mentions: ["Pool initargs", '"x"'] },
  { call: () => new Pool({ maxtasksperchild: 0 }), error: R, mentions: ["Pool maxtasksperchild", "0"] },
  { call: () => new Pool({ maxtasksperchild: -1 }), error: R, mentions: ["Pool maxtasksperchild", "-1"] },
  { call: () => new Pool({ maxtasksperchild: 0.5 }), error: R, mentions: ["Pool maxtasksperchild", "0.5"] },
  { call: () => new Pool({ maxtasksperchild: "12" as never }), error: T, mentions: ["Pool maxtasksperchild", '"12"'] },
  { call: () => new Pool(2, { transport: "lamda" as never }), error: R, mentions: ["Pool transport", '"lamda"'] },
  { call: () => new Pool(2, { transport: 5 as never }), error: T, mentions: ["Pool transport", "5"] },
  { call: () => new Pool(0, { transport: "local" }), error: T, mentions: ["Pool processes 0", "inline", '"local"'] },
  { call: () => new Pool(2, { transport: { kind: "x" } as never }), error: T, mentions: ["Pool transport.kind", '"x"'] },
  { call: () => new Pool(2, { transport: { kind: "remote", name: "r", size: 1 } as never }), error: T, mentions: ["Pool transport.start", "undefined"] },
  { call: () => new Pool(2, { transport: { ...inProcess, runChunk: "run" } as never }), error: T, mentions: ["Pool transport.runChunk", '"run"'] },
  { call: () => new Pool(2, { transport: { ...inProcess, size: 0 } as never }), error: R, mentions: ["Pool transport.size", "0"] },
  { call: () => new Pool(2, { transport: { ...inProcess, size: "1" } as never }), error: T, mentions: ["Pool transport.size", '"1"'] },

  // ---- Pool.apply / applyAsync
  { call: (s) => s.pool.apply(5 as never), error: T, mentions: ["apply fn", "5"] },
  { call: (s) => s.pool.apply("sqr" as never, [1]), error: T, mentions: ["apply fn", '"sqr"'] },
  { call: (s) => s.pool.apply(sqr, 5 as never), error: T, mentions: ["apply args", "5"] },
  { call: (s) => s.pool.apply(mul, { 0: 1, 1: 2 } as never), error: T, mentions: ["apply args", "an object"] },
  { call: (s) => s.pool.applyAsync(null as never, [1]), error: T, mentions: ["applyAsync fn", "null"] },
  { call: (s) => s.pool.applyAsync(sqr, [1], { callback: "log" as never }), error: T, mentions: ["applyAsync callback", '"log"'] },
  { call: (s) => s.pool.applyAsync(sqr, [1], { errorCallback: 1 as never }), error: T, mentions: ["applyAsync errorCallback", "1"] },
  { call: (s) => s.pool.applyAsync(sqr, [1], { calback: noop } as never), error: T, mentions: ["applyAsync options", '"calback"'] },
  { call: (s) => s.pool.applyAsync(sqr, [1], noop as never), error: T, mentions: ["applyAsync options", "function noop"] },

  // ---- Pool.map / mapAsync / starmap / starmapAsync
  { call: (s) => s.pool.map(sqr, [1], 0), error: R, mentions: ["map chunksize", "0"] },
  { call: (s) => s.pool.map(sqr, [1], -3), error: R, mentions: ["map chunksize", "-3"] },
  { call: (s) => s.pool.map(sqr, [1], 1.5), error: R, mentions: ["map chunksize", "1.5"] },
  { call: (s) => s.pool.map(sqr, [1], NaN), error: R, mentions: ["map chunksize", "NaN"] },
  { call: (s) => s.pool.map(sqr, [1], "2" as never), error: T, mentions: ["map chunksize", '"2"'] },
  { call: (s) => s.pool.map(sqr, 5 as never), error: T, mentions: ["map iterable", "5"] },
  { call: (s) => s.pool.map(sqr, null as never), error: T, mentions: ["map iterable", "null"] },
  { call: (s) => s.pool.map(sqr, { length: 2, 0: 1, 1: 2 } as never), error: T, mentions: ["map iterable", "an object"] },
  { call: (s) => s.pool.map(undefined as never, [1]), error: T, mentions: ["map fn", "undefined"] },
  { call: (s) => s.pool.mapAsync(sqr, [1], { chunksize: 0 }), error: R, mentions: ["mapAsync chunksize", "0"] },
  { call: (s) => s.pool.mapAsync(sqr, [1], { chunkSize: 2 } as never), error: T, mentions: ["mapAsync options", '"chunkSize"'] },
  { call: (s) => s.pool.mapAsync(sqr, [1], 4 as never), error: T, mentions: ["mapAsync options", "4"] },
  { call: (s) => s.pool.mapAsync(sqr, [1], { callback: 1 as never }), error: T, mentions: ["mapAsync callback", "1"] },
  { call: (s) => s.pool.mapAsync(sqr, [1], { errorCallback: "x" as never }), error: T, mentions: ["mapAsync errorCallback", '"x"'] },
  { call: (s) => s.pool.mapAsync(sqr, new Map() as never, { chunksize: Infinity }), error: R, mentions: ["mapAsync chunksize", "Infinity"] },
  { call: (s) => s.pool.starmap(mul, [[1, 2]], 0), error: R, mentions: ["starmap chunksize", "0"] },
  { call: (s) => s.pool.starmap(mul, 7 as never), error: T, mentions: ["starmap iterable", "7"] },
  { call: (s) => s.pool.starmap(mul, [[1, 2], 3] as never), error: T, mentions: ["starmap", "array of arguments", "3"] },
  { call: (s) => s.pool.starmap({} as never, [[1, 2]]), error: T, mentions: ["starmap fn", "an object"] },
  { call: (s) => s.pool.starmapAsync(mul, [[1, 2]], { chunksize: -1 }), error: R, mentions: ["starmapAsync chunksize", "-1"] },
  { call: (s) => s.pool.starmapAsync(mul, "ab" as never), error: T, mentions: ["starmap", "array of arguments", '"a"'] },
  { call: (s) => s.pool.starmapAsync(mul, [[1, 2]], { callbak: noop } as never), error: T, mentions: ["starmapAsync options", '"callbak"'] },

  // ---- Pool.imap / imapUnordered and their iterator
  { call: (s) => s.pool.imap(sqr, [1], 0), error: R, mentions: ["imap chunksize", "0"] },
  { call: (s) => s.pool.imap(sqr, [1], 2.5), error: R, mentions: ["imap chunksize", "2.5"] },
  { call: (s) => s.pool.imap(sqr, 42 as never), error: T, mentions: ["imap iterable", "42"] },
  { call: (s) => s.pool.imap("sqr" as never, [1]), error: T, mentions: ["imap fn", '"sqr"'] },
  { call: (s) => s.pool.imapUnordered(sqr, [1], -1), error: R, mentions: ["imapUnordered chunksize", "-1"] },
  { call: (s) => s.pool.imapUnordered(sqr, [1], "1" as never), error: T, mentions: ["imapUnordered chunksize", '"1"'] },
  { call: (s) => s.pool.imapUnordered(sqr, undefined as never), error: T, mentions: ["imapUnordered iterable", "undefined"] },
  { call: (s) => s.pool.imap(sqr, [1]).next(NaN), error: R, mentions: ["IMapIterator.next timeout", "NaN"] },
  { call: (s) => s.pool.imap(sqr, [1]).next("1s" as never), error: T, mentions: ["IMapIterator.next timeout", '"1s"'] },

  // ---- AsyncResult
  { call: (s) => s.pool.applyAsync(sqr, [1]).get("1000" as never), error: T, mentions: ["AsyncResult.get timeout", '"1000"'] },
  { call: (s) => s.pool.applyAsync(sqr, [1]).get(NaN), error: R, mentions: ["AsyncResult.get timeout", "NaN"] },
  { call: (s) => s.pool.mapAsync(sqr, [1]).wait(NaN), error: R, mentions: ["AsyncResult.wait timeout", "NaN"] },
  { call: (s) => s.pool.mapAsync(sqr, [1]).wait({ timeout: 5 } as never), error: T, mentions: ["AsyncResult.wait timeout", "an object"] },

  // ---- Process
  { call: () => new Process(undefined as never), error: T, mentions: ["Process options", "undefined"] },
  { call: () => new Process({} as never), error: T, mentions: ["Process target", "undefined"] },
  { call: () => new Process({ target: "main" as never }), error: T, mentions: ["Process target", '"main"'] },
  { call: () => new Process({ target: sqr, args: 5 as never }), error: T, mentions: ["Process args", "5"] },
  { call: () => new Process({ target: sqr, name: 7 as never }), error: T, mentions: ["Process name", "7"] },
  { call: () => new Process({ target: sqr, arg: [1] } as never), error: T, mentions: ["Process options", '"arg"'] },
  { call: () => new Process({ target: sqr, daemon: true } as never), error: T, mentions: ["Process options", '"daemon"'] },
  { call: () => new Process({ target: sqr }).join(NaN), error: R, mentions: ["Process.join timeout", "NaN"] },
  { call: () => new Process({ target: sqr }).join("5" as never), error: T, mentions: ["Process.join timeout", '"5"'] },

  // ---- Lock / RLock
  { call: (s) => s.lock.acquire({ timeout: NaN }), error: R, mentions: ["Lock.acquire timeout", "NaN"] },
  { call: (s) => s.lock.acquire({ timeout: "1s" as never }), error: T, mentions: ["Lock.acquire timeout", '"1s"'] },
  { call: (s) => s.lock.acquire({ block: "no" as never }), error: T, mentions: ["Lock.acquire block", '"no"'] },
  { call: (s) => s.lock.acquire(false as never), error: T, mentions: ["Lock.acquire options", "false"] },
  { call: (s) => s.lock.acquire({ blocking: false } as never), error: T, mentions: ["Lock.acquire options", '"blocking"'] },
  { call: (s) => s.rlock.acquire({ timeout: NaN }), error: R, mentions: ["RLock.acquire timeout", "NaN"] },
  { call: (s) => s.rlock.acquire(1000 as never), error: T, mentions: ["RLock.acquire options", "1000"] },
  { call: (s) => s.rlock.acquire({ block: 0 as never }), error: T, mentions: ["RLock.acquire block", "0"] },

  // ---- Semaphore / BoundedSemaphore
  { call: () => new Semaphore(-1), error: R, mentions: ["Semaphore value", "-1"] },
  { call: () => new Semaphore(1.5), error: R, mentions: ["Semaphore value", "1.5"] },
  { call: () => new Semaphore(NaN), error: R, mentions: ["Semaphore value", "NaN"] },
  { call: () => new Semaphore("3" as never), error: T, mentions: ["Semaphore value", '"3"'] },
  { call: () => new BoundedSemaphore(-2), error: R, mentions: ["BoundedSemaphore value", "-2"] },
  { call: () => new BoundedSemaphore(Infinity), error: R, mentions: ["BoundedSemaphore value", "Infinity"] },
  { call: () => new BoundedSemaphore(null as never), error: T, mentions: ["BoundedSemaphore value", "null"] },
  { call: (s) => s.sem.release(0), error: R, mentions: ["Semaphore.release n", "0"] },
  { call: (s) => s.sem.release(1.5), error: R, mentions: ["Semaphore.release n", "1.5"] },
  { call: (s) => s.sem.release("2" as never), error: T, mentions: ["Semaphore.release n", '"2"'] },
  { call: (s) => s.sem.acquire({ timeout: NaN }), error: R, mentions: ["Semaphore.acquire timeout", "NaN"] },
  { call: (s) => s.bsem.acquire({ block: "false" as never }), error: T, mentions: ["BoundedSemaphore.acquire block", '"false"'] },
  { call: (s) => s.bsem.release(-1), error: R, mentions: ["BoundedSemaphore.release n", "-1"] },

  // ---- Condition
  { call: () => new Condition(new Semaphore() as never), error: T, mentions: ["Condition lock", "a Semaphore"] },
  { call: () => new Condition({} as never), error: T, mentions: ["Condition lock", "an object"] },
  { call: () => new Condition(true as never), error: T, mentions: ["Condition lock", "true"] },
  { call: (s) => s.cond.wait(NaN), error: R, mentions: ["Condition.wait timeout", "NaN"] },
  { call: (s) => s.cond.wait("10" as never), error: T, mentions: ["Condition.wait timeout", '"10"'] },
  { call: (s) => s.cond.waitFor(true as never), error: T, mentions: ["Condition.waitFor predicate", "true"] },
  { call: (s) => s.cond.waitFor(() => true, NaN), error: R, mentions: ["Condition.waitFor timeout", "NaN"] },
  { call: (s) => s.cond.notify(-1), error: R, mentions: ["Condition.notify n", "-1"] },
  { call: (s) => s.cond.notify(1.5), error: R, mentions: ["Condition.notify n", "1.5"] },
  { call: (s) => s.cond.notify("all" as never), error: T, mentions: ["Condition.notify n", '"all"'] },
  { call: (s) => s.cond.acquire({ timeout: NaN }), error: R, mentions: ["acquire timeout", "NaN"] },

  // ---- Event
  { call: (s) => s.event.wait(NaN), error: R, mentions: ["Event.wait timeout", "NaN"] },
  { call: (s) => s.event.wait("5" as never), error: T, mentions: ["Event.wait timeout", '"5"'] },
  { call: (s) => s.event.wait({ timeout: 5 } as never), error: T, mentions: ["Event.wait timeout", "an object"] },

  // ---- Barrier
  { call: () => new Barrier(0), error: R, mentions: ["Barrier parties", "0"] },
  { call: () => new Barrier(-1), error: R, mentions: ["Barrier parties", "-1"] },
  { call: () => new Barrier(2.5), error: R, mentions: ["Barrier parties", "2.5"] },
  { call: () => new Barrier("2" as never), error: T, mentions: ["Barrier parties", '"2"'] },
  { call: () => new Barrier(2, { action: {} as never }), error: T, mentions: ["Barrier action", "an object"] },
  { call: () => new Barrier(2, { action: "log" as never }), error: T, mentions: ["Barrier action", '"log"'] },
  { call: () => new Barrier(2, { timeout: NaN }), error: R, mentions: ["Barrier timeout", "NaN"] },
  { call: () => new Barrier(2, { timeout: "5s" as never }), error: T, mentions: ["Barrier timeout", '"5s"'] },
  { call: () => new Barrier(2, { actoin: noop } as never), error: T, mentions: ["Barrier options", '"actoin"'] },
  { call: () => new Barrier(2, noop as never), error: T, mentions: ["Barrier options", "function noop"] },
  { call: (s) => s.barrier.wait(NaN), error: R, mentions: ["Barrier.wait timeout", "NaN"] },
  { call: (s) => s.barrier.wait("1" as never), error: T, mentions: ["Barrier.wait timeout", '"1"'] },

  // ---- Queue / JoinableQueue
  { call: () => new Queue(1.5), error: R, mentions: ["Queue maxsize", "1.5"] },
  { call: () => new Queue("10" as never), error: T, mentions: ["Queue maxsize", '"10"'] },
  { call: () => new Queue(NaN), error: R, mentions: ["Queue maxsize", "NaN"] },
  { call: () => new JoinableQueue(2.5), error: R, mentions: ["JoinableQueue maxsize", "2.5"] },
  { call: (s) => s.queue.put(1, { timeout: -1 }), error: R, mentions: ["Queue.put timeout", "-1"] },
  { call: (s) => s.queue.put(1, { timeout: NaN }), error: R, mentions: ["Queue.put timeout", "NaN"] },
  { call: (s) => s.queue.put(1, { block: "yes" as never }), error: T, mentions: ["Queue.put block", '"yes"'] },
  { call: (s) => s.queue.put(1, true as never), error: T, mentions: ["Queue.put options", "true"] },
  { call: (s) => s.queue.get({ timeout: -5 }), error: R, mentions: ["Queue.get timeout", "-5"] },
  { call: (s) => s.queue.get({ timeout: "1" as never }), error: T, mentions: ["Queue.get timeout", '"1"'] },
  { call: (s) => s.queue.get(false as never), error: T, mentions: ["Queue.get options", "false"] },
  { call: (s) => s.queue.get({ blocking: false } as never), error: T, mentions: ["Queue.get options", '"blocking"'] },
  { call: (s) => s.jqueue.get({ timeout: NaN }), error: R, mentions: ["JoinableQueue.get timeout", "NaN"] },
  { call: (s) => s.jqueue.put(1, { timout: 5 } as never), error: T, mentions: ["JoinableQueue.put options", '"timout"'] },

  // ---- Pipe / Connection
  { call: () => Pipe("yes" as never), error: T, mentions: ["Pipe duplex", '"yes"'] },
  { call: () => Pipe(0 as never), error: T, mentions: ["Pipe duplex", "0"] },
  { call: (s) => s.conn.sendBytes("abc" as never), error: T, mentions: ["Connection.sendBytes", '"abc"'] },
  { call: (s) => s.conn.sendBytes(bytes, -1), error: R, mentions: ["offset is negative", "-1"] },
  { call: (s) => s.conn.sendBytes(bytes, 27), error: R, mentions: ["buffer length < offset", "27"] },
  { call: (s) => s.conn.sendBytes(bytes, 22, 5), error: R, mentions: ["buffer length < offset + size", "22", "5"] },
  { call: (s) => s.conn.sendBytes(bytes, 26, 1), error: R, mentions: ["buffer length < offset + size", "26", "1"] },
  { call: (s) => s.conn.sendBytes(bytes, 4, -1), error: R, mentions: ["size is negative", "-1"] },
  { call: (s) => s.conn.sendBytes(bytes, 1.5), error: R, mentions: ["Connection.sendBytes offset", "1.5"] },
  { call: (s) => s.conn.sendBytes(bytes, 0, "3" as never), error: T, mentions: ["Connection.sendBytes size", '"3"'] },
  { call: (s) => s.conn.recvBytes(-1), error: R, mentions: ["maxlength is negative", "-1"] },
  { call: (s) => s.conn.recvBytes(1.5), error: R, mentions: ["Connection.recvBytes maxlength", "1.5"] },
  { call: (s) => s.conn.recvBytesInto("buf" as never), error: T, mentions: ["Connection.recvBytesInto", '"buf"'] },
  { call: (s) => s.conn.recvBytesInto(new Uint8Array(4), 5), error: R, mentions: ["offset too large", "5"] },
  { call: (s) => s.conn.recvBytesInto(new Uint8Array(4), -1), error: R, mentions: ["negative offset", "-1"] },
  { call: (s) => s.conn.poll(NaN), error: R, mentions: ["Connection.poll timeout", "NaN"] },
  { call: (s) => s.conn.poll("1" as never), error: T, mentions: ["Connection.poll timeout", '"1"'] },

  // ---- Value / RawValue
  { call: () => new Value("x" as never, 0 as never), error: T, mentions: ["bad typecode", '"x"'] },
  { call: () => new RawValue("x" as never), error: T, mentions: ["bad typecode", '"x"'] },
  { call: () => new Value(5 as never, 0 as never), error: T, mentions: ["bad typecode", "5"] },
  { call: () => new Value("i", "12" as never), error: T, mentions: ["('i')", '"12"'] },
  { call: () => new Value("i", 1.5), error: T, mentions: ["('i')", "1.5"] },
  { call: () => new Value("d", "1.0" as never), error: T, mentions: ["('d')", '"1.0"'] },
  { call: () => new Value("c", "ab"), error: R, mentions: ["('c')", '"ab"'] },
  { call: () => new Value("i", 0, { lock: new Semaphore() as never }), error: T, mentions: ["Value lock", "a Semaphore"] },
  { call: () => new Value("i", 0, { lock: "yes" as never }), error: T, mentions: ["Value lock", '"yes"'] },
  { call: () => new Value("i", 0, { lock: 1 as never }), error: T, mentions: ["Value lock", "1"] },
  { call: () => new Value("i", 0, { lokc: false } as never), error: T, mentions: ["Value options", '"lokc"'] },
  { call: () => new Value("i", 0, false as never), error: T, mentions: ["Value options", "false"] },
  { call: (s) => s.value.set("3" as never), error: T, mentions: ["('i')", '"3"'] },
  { call: (s) => s.value.set(2.5), error: T, mentions: ["('i')", "2.5"] },

  // ---- SharedArray / RawArray
  { call: () => new SharedArray("i", 2 ** 32), error: R, mentions: ["SharedArray size", "4294967296", "512 MiB"] },
  { call: () => new RawArray("b", 2 ** 30), error: R, mentions: ["RawArray size", "1073741824", "512 MiB"] },
  { call: () => new SharedArray("i", -1), error: R, mentions: ["SharedArray size", "-1"] },
  { call: () => new SharedArray("i", 2.5), error: R, mentions: ["SharedArray size", "2.5"] },
  { call: () => new SharedArray("i", NaN), error: R, mentions: ["SharedArray size", "NaN"] },
  { call: () => new SharedArray("x" as never, 3), error: T, mentions: ["bad typecode", '"x"'] },
  { call: () => new RawArray("i", "nope" as never), error: T, mentions: ["RawArray", '"nope"'] },
  { call: () => new SharedArray("i", [1, "x"] as never), error: T, mentions: ["('i')", '"x"'] },
  { call: () => new SharedArray("i", null as never), error: T, mentions: ["SharedArray", "null"] },
  { call: () => new SharedArray("d", 3, { lock: new Event() as never }), error: T, mentions: ["SharedArray lock", "an Event"] },
  { call: () => new SharedArray("i", 3, { locked: true } as never), error: T, mentions: ["SharedArray options", '"locked"'] },
  { call: (s) => s.array.get(1.5), error: T, mentions: ["index", "1.5"] },
  { call: (s) => s.array.get("0" as never), error: T, mentions: ["index", "0"] },
  { call: (s) => s.array.get(3), error: R, mentions: ["index 3", "length 3"] },
  { call: (s) => s.array.set(0, "a" as never), error: T, mentions: ["('i')", '"a"'] },

  // ---- Manager and its proxies
  { call: (s) => s.manager.Value("x" as never, 1 as never), error: T, mentions: ["bad typecode", '"x"'] },
  { call: (s) => s.manager.Value("i", 0, { lock: new BoundedSemaphore() as never }), error: T, mentions: ["Value lock", "a BoundedSemaphore"] },
  { call: (s) => s.manager.Array("i", -3), error: R, mentions: ["SharedArray size", "-3"] },
  { call: (s) => s.manager.Queue(1.5), error: R, mentions: ["Queue maxsize", "1.5"] },
  { call: (s) => s.manager.JoinableQueue("1" as never), error: T, mentions: ["JoinableQueue maxsize", '"1"'] },
  { call: (s) => s.manager.Semaphore(-1), error: R, mentions: ["Semaphore value", "-1"] },
  { call: (s) => s.manager.BoundedSemaphore(0.5), error: R, mentions: ["BoundedSemaphore value", "0.5"] },
  { call: (s) => s.manager.Barrier(0), error: R, mentions: ["Barrier parties", "0"] },
  { call: (s) => s.manager.Condition(new Event() as never), error: T, mentions: ["Condition lock", "an Event"] },
  { call: (s) => s.manager.dict(5 as never), error: T, mentions: ["dict", "5"] },
  { call: (s) => s.manager.dict([["k", 1, 2]] as never), error: T, mentions: ["dict", "element #0", "an array of length 3"] },
  { call: (s) => s.manager.dict(new Map([[true, 1]]) as never), error: T, mentions: ["dict key", "true"] },
  { call: (s) => s.manager.list(5 as never), error: T, mentions: ["list", "5"] },
  { call: (s) => s.manager.Namespace([1, 2] as never), error: T, mentions: ["Namespace", "an array of length 2"] },
  { call: (s) => s.manager.Namespace({ "": 1 }), error: T, mentions: ["Namespace name", "empty"] },
  { call: (s) => s.dict.get({} as never), error: T, mentions: ["dict key", "an object"] },
  { call: (s) => s.dict.set(null as never, 1), error: T, mentions: ["dict key", "null"] },
  { call: (s) => s.dict.update(7 as never), error: T, mentions: ["update", "7"] },
  { call: (s) => s.list.get(1.5), error: R, mentions: ["index", "1.5"] },
  { call: (s) => s.list.get("0" as never), error: T, mentions: ["index", '"0"'] },
  { call: (s) => s.list.insert("a" as never, 1), error: T, mentions: ["index", '"a"'] },
  { call: (s) => s.list.pop(2.5), error: R, mentions: ["index", "2.5"] },
  { call: (s) => s.list.extend(5 as never), error: T, mentions: ["extend", "5"] },
  { call: (s) => s.list.slice("1" as never), error: T, mentions: ['"1"'] },
  { call: (s) => s.ns.get(5 as never), error: T, mentions: ["Namespace name", "5"] },
  { call: (s) => s.ns.set("", 1), error: T, mentions: ["Namespace name", "empty"] },

  // ---- config.set / config.setParameter
  { call: () => config.set({ redis: { prefix: 5 as never } }), error: T, mentions: ["config.redis.prefix", "5"] },
  { call: () => config.set({ redis: { prefix: "" } }), error: R, mentions: ["config.redis.prefix", '""'] },
  { call: () => config.set({ redis: { prefix: "app:v2" } }), error: R, mentions: ["config.redis.prefix", '"app:v2"'] },
  { call: () => config.set({ redis: { prefix: "my app" } }), error: R, mentions: ["config.redis.prefix", '"my app"'] },
  { call: () => config.set({ redis: { prefix: "jobs*" } }), error: R, mentions: ["config.redis.prefix", '"jobs*"'] },
  { call: () => config.set({ redis: { url: 6379 as never } }), error: T, mentions: ["config.redis.url", "6379"] },
  { call: () => config.set({ redis: { url: "localhost:6379" } }), error: R, mentions: ["config.redis.url", "redis://", '"localhost:6379"'] },
  { call: () => config.set({ redis: { url: "http://app:hunter2@db:6379" } }), error: R, mentions: ["config.redis.url", '"http://app:***@db:6379"'] },
  { call: () => config.set({ redis: "redis://127.0.0.1:6379" as never }), error: T, mentions: ["config.redis", '"redis://127.0.0.1:6379"'] },
  { call: () => config.set({ redis: { host: "db" } } as never), error: T, mentions: ["config.redis", '"host"'] },
  { call: () => config.set({ envVars: "x" as never }), error: T, mentions: ["config.envVars", '"x"'] },
  { call: () => config.set({ envVars: ["A=1"] as never }), error: T, mentions: ["config.envVars", "an array of length 1"] },
  { call: () => config.set({ envVars: { PORT: 8080 } as never }), error: T, mentions: ["config.envVars.PORT", "8080"] },
  { call: () => config.set({ envVars: { "A=B": "1" } }), error: R, mentions: ["config.envVars", '"A=B"'] },
  { call: () => config.set({ envVars: new Map([["A", "1"]]) as never }), error: T, mentions: ["config.envVars", "a Map"] },
  { call: () => config.set({ streamStdout: "yes" as never }), error: T, mentions: ["config.streamStdout", '"yes"'] },
  { call: () => config.set({ streamStdout: 1 as never }), error: T, mentions: ["config.streamStdout", "1"] },
  { call: () => config.set({ exportExecutionDetails: 5 as never }), error: T, mentions: ["config.exportExecutionDetails", "5"] },
  { call: () => config.set({ exportExecutionDetails: "" }), error: R, mentions: ["config.exportExecutionDetails", '""'] },
  { call: () => config.set({ exportExecutionDetails: true as never }), error: T, mentions: ["config.exportExecutionDetails", "true"] },
  { call: () => config.set({ leaseMs: 0.5 }), error: R, mentions: ["config.leaseMs", "0.5"] },
  { call: () => config.set({ leaseMs: 0 }), error: R, mentions: ["config.leaseMs", "0"] },
  { call: () => config.set({ leaseMs: -5 }), error: R, mentions: ["config.leaseMs", "-5"] },
  { call: () => config.set({ leaseMs: "30s" as never }), error: T, mentions: ["config.leaseMs", '"30s"'] },
  { call: () => config.set({ leaseMs: NaN }), error: R, mentions: ["config.leaseMs", "NaN"] },
  { call: () => config.set({ leaseMs: Infinity }), error: R, mentions: ["config.leaseMs", "Infinity"] },
  { call: () => config.set({ leaseMs: 2 ** 31 }), error: R, mentions: ["config.leaseMs", "2147483648"] },
  { call: () => config.set({ redisExpiryTime: 0 }), error: R, mentions: ["config.redisExpiryTime", "0"] },
  { call: () => config.set({ redisExpiryTime: 1.5 }), error: R, mentions: ["config.redisExpiryTime", "1.5"] },
  { call: () => config.set({ redisExpiryTime: "3600" as never }), error: T, mentions: ["config.redisExpiryTime", '"3600"'] },
  { call: () => config.set({ pipeConnectionType: "tcp" as never }), error: R, mentions: ["config.pipeConnectionType", '"tcp"'] },
  { call: () => config.set({ pipeConnectionType: 1 as never }), error: T, mentions: ["config.pipeConnectionType", "1"] },
  { call: () => config.set({ transport: 5 as never }), error: T, mentions: ["config.transport", "5"] },
  { call: () => config.set({ transport: "" as never }), error: R, mentions: ["config.transport", '""'] },
  { call: () => config.set({ lithopsConfig: "cfg.yaml" as never }), error: T, mentions: ["config.lithopsConfig", '"cfg.yaml"'] },
  { call: () => config.set({ lithopsConfig: [] as never }), error: T, mentions: ["config.lithopsConfig", "an array of length 0"] },
  { call: () => config.set({ leasems: 1000 } as never), error: T, mentions: ["config", '"leasems"'] },
  { call: () => config.set({ redisUrl: "redis://db:6379" } as never), error: T, mentions: ["config", '"redisUrl"'] },
  { call: () => config.set(null as never), error: T, mentions: ["config", "null"] },
  { call: () => config.set("redis://db:6379" as never), error: T, mentions: ["config", '"redis://db:6379"'] },
  { call: () => config.setParameter("NOPE" as never, 1), error: T, mentions: ["unknown parameter", '"NOPE"'] },
  { call: () => config.setParameter(config.STREAM_STDOUT, "true"), error: T, mentions: ["config.streamStdout", '"true"'] },
  { call: () => config.setParameter(config.REDIS_EXPIRY_TIME, -1), error: R, mentions: ["config.redisExpiryTime", "-1"] },
  { call: () => config.setParameter(config.ENV_VARS, "A=1"), error: T, mentions: ["config.envVars", '"A=1"'] },
  { call: () => config.setParameter(config.PIPE_CONNECTION_TYPE, "redis-list"), error: R, mentions: ["config.pipeConnectionType", '"redis-list"'] },
  { call: () => config.setParameter(config.LITHOPS_CONFIG, null), error: T, mentions: ["config.lithopsConfig", "null"] },
  { call: () => config.setParameter(config.EXPORT_EXECUTION_DETAILS, 0), error: T, mentions: ["config.exportExecutionDetails", "0"] },
];

/** A row's name: the source of its call, on one line. */
function nameOf(row: Row): string {
  return row.call.toString().replace(/\s+/g, " ").replace(/^\(?s?\)?\s*=>\s*/, "");
}

/** What the call threw or rejected with (`undefined` when it did neither). */
async function errorOf(row: Row, s: Subjects): Promise<unknown> {
  try {
    const r = row.call(s);
    if (r !== null && typeof r === "object" && typeof (r as PromiseLike<unknown>).then === "function") {
      await withTimeout(r as PromiseLike<unknown>, 10_000, nameOf(row));
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

describe(`bad arguments (${ROWS.length} rows)`, () => {
  let server: TestRedisServer;
  const s = {} as Subjects;
  before(async () => {
    server = await setUpRedis();
    s.pool = new Pool(0);
    s.lock = new Lock();
    s.rlock = new RLock();
    s.sem = new Semaphore(2);
    s.bsem = new BoundedSemaphore(2);
    s.cond = new Condition();
    s.event = new Event();
    s.barrier = new Barrier(2);
    s.queue = new Queue();
    s.jqueue = new JoinableQueue();
    s.conn = Pipe()[0];
    s.value = new Value("i", 0);
    s.array = new SharedArray("i", 3);
    s.manager = await new Manager().start();
    s.dict = s.manager.dict();
    s.list = s.manager.list([1, 2]);
    s.ns = s.manager.Namespace();
  });
  after(async () => {
    await s.pool?.terminate();
    await s.manager?.shutdown();
    await tearDownRedis(server);
  });

  test("the table holds at least 150 distinct bad calls", () => {
    console.log(`bad-argument rows: ${ROWS.length}`);
    assert.ok(ROWS.length >= 150, `only ${ROWS.length} rows`);
    const names = ROWS.map(nameOf);
    assert.equal(new Set(names).size, names.length, "every row is a different call");
  });

  for (const row of ROWS) {
    test(`${nameOf(row)} → ${row.error.name} naming ${row.mentions.join(", ")}`, async () => {
      const error = await errorOf(row, s);
      assert.ok(error instanceof Error, `the call was accepted (gave ${String(error)})`);
      assert.equal(error.constructor, row.error, `expected a ${row.error.name}, got ${error.constructor.name}: ${error.message}`);
      for (const text of row.mentions) {
        assert.ok(error.message.includes(text), `the message ${JSON.stringify(error.message)} does not mention ${JSON.stringify(text)}`);
      }
    });
  }
});
