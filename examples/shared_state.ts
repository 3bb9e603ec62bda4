// Shared state with no Redis configured: skypool starts a private
// redis-server for this program and stops it on exit.
import { Lock, Manager, Pool, Queue, RawValue } from "../mod.ts";

await using pool = new Pool(2);
const lock = new Lock();
const counter = new RawValue("i", 0);
const done = new Queue<number>();

// Four tasks on two processes each add 100 under the lock: nothing is lost.
await pool.starmap(async (id: number, lock: Lock, counter: RawValue<"i">, done: Queue<number>) => {
  for (let i = 0; i < 100; i++) {
    await lock.acquire();
    await counter.set((await counter.get()) + 1);
    await lock.release();
  }
  await done.put(id);
}, [0, 1, 2, 3].map((id) => [id, lock, counter, done] as const));
console.log("counter", await counter.get()); // counter 400

const finished: number[] = [];
for (let i = 0; i < 4; i++) finished.push(await done.get({ timeout: 5_000 }));
console.log("finished", finished.sort()); // finished [ 0, 1, 2, 3 ]

// A Manager's dict and list are shared by reference with the workers.
await using manager = await new Manager().start();
const shared = manager.dict<number>();
await pool.starmap(async (name: string, scores: typeof shared) => {
  await scores.set(name, name.length);
}, ["ann", "bob", "carol"].map((n) => [n, shared] as const));
console.log(await shared.toObject()); // { ann: 3, bob: 3, carol: 5 } (in completion order)
