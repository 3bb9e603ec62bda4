/**
 * Task functions for the Manager tests, run in worker processes through
 * `task(moduleUrl, name)` (Pool and Process). Importing the proxy modules
 * here registers their handle kinds with the codec in the worker before
 * the task's arguments are decoded.
 *
 * @module
 */
import type { DictProxy } from "../../src/state/dict_proxy.ts";
import type { ListProxy } from "../../src/state/list_proxy.ts";
import type { NamespaceProxy } from "../../src/state/namespace_proxy.ts";
import type { Lock } from "../../src/state/lock.ts";
import type { Queue } from "../../src/state/queue.ts";
import "../../src/state/dict_proxy.ts";
import "../../src/state/list_proxy.ts";
import "../../src/state/namespace_proxy.ts";
import "../../src/state/lock.ts";
import "../../src/state/queue.ts";

/** Appends `${tag}:0` … `${tag}:{n-1}` one call at a time; returns n. */
export async function appendMany(list: ListProxy<string>, tag: string, n: number): Promise<number> {
  for (let i = 0; i < n; i++) await list.append(`${tag}:${i}`);
  return n;
}

/** Adds 1 to `d[key]` `n` times, each a read-modify-write under `lock`. */
export async function incrementUnderLock(d: DictProxy<number>, lock: Lock, key: string, n: number): Promise<number> {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    try {
      await d.set(key, ((await d.get(key)) ?? 0) + 1);
    } finally {
      await lock.release();
    }
  }
  return n;
}

/** Reads a whole dict: `[size, entries]`. */
export async function readDict(d: DictProxy): Promise<[number, [string | number, unknown][]]> {
  return [await d.size(), await d.entries()];
}

/** Reads a whole list. */
export async function readList(l: ListProxy): Promise<unknown[]> {
  return await l.toArray();
}

/** MGRT-02 in a worker: checks and changes a dict `{ foo: 5 }`, reporting what it saw. */
export async function dictWorkout(d: DictProxy<number>): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  seen.size = await d.size();
  seen.foo = await d.get("foo");
  seen.entries = await d.entries();
  await d.update({ bar: 6 });
  seen.keys = await d.keys();
  seen.popitem = await d.popitem();
  seen.setdefault = await d.setdefault("baz", 7);
  await d.update([["bar", 7]]);
  seen.pop = await d.pop("bar");
  await d.clear();
  seen.after = await d.size();
  return seen;
}

/** MGRT-01 in a worker: checks and changes a list `[5]`. */
export async function listWorkout(l: ListProxy<number>): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  seen.first = await l.get(0);
  seen.count = await l.count(5);
  seen.index = await l.index(5);
  await l.extend([7]);
  seen.extended = await l.toArray();
  await l.extend(await l.toArray());
  seen.doubled = await l.toArray();
  seen.popped = await l.pop(1);
  await l.clear();
  seen.after = await l.length();
  return seen;
}

/** Reads names of a namespace and sets one. */
export async function namespaceWorkout(ns: NamespaceProxy): Promise<unknown[]> {
  const x = await ns.get("x");
  const y = await ns.get("y");
  await ns.set("fromChild", [x, y]);
  return [x, y, await ns.has("missing")];
}

/** MGR-09 in a worker: a Queue found inside a list proxy works there. */
export async function putThroughNested(holder: ListProxy<Queue<number>>, value: number): Promise<void> {
  const q = await holder.get(0);
  await q.put(value);
}

/** Calls one method of a proxy and reports the error's name (or "ok"). */
export async function tryCall(proxy: { size?: () => Promise<unknown>; length?: () => Promise<unknown> }): Promise<string> {
  try {
    await (proxy.size ?? proxy.length)!.call(proxy);
    return "ok";
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}
