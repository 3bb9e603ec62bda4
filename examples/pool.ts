// Pool: map, imap and a module-free async task on local worker processes.
import { Pool } from "../mod.ts";

await using pool = new Pool(2);

// map: results in input order.
console.log(await pool.map((x: number) => x * x, [1, 2, 3, 4])); // [ 1, 4, 9, 16 ]

// imap: each result as soon as it and all before it are done; the input
// generator is consumed lazily.
function* numbers() {
  for (let i = 0; i < 1_000_000; i++) yield i;
}
for await (const y of pool.imap((x: number) => x + 1, numbers(), 100)) {
  if (y > 3) break; // stops early; the rest of the million is never read
  console.log("imap", y);
}

// applyAsync returns an AsyncResult; awaiting it gives the value.
const r = pool.applyAsync(async (ms: number) => {
  await new Promise((ok) => setTimeout(ok, ms));
  return `slept ${ms} ms in worker ${process.pid}`;
}, [50]);
console.log(await r.get(5_000));
