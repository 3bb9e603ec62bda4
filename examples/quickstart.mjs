// Plain JavaScript (an .mjs file): runs as written on Node 20+ and on Deno.
import { Pool } from "../mod.ts";

const pool = new Pool(2);
try {
  console.log(await pool.map((x) => x * x, [1, 2, 3])); // [ 1, 4, 9 ]
} finally {
  await pool.terminate();
}
