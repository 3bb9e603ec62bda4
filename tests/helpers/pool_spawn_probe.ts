/**
 * Child-process side of the pool start test on Deno: watches Deno's Node
 * globals (see `watch_node_globals.ts`) and `Deno.Command`'s spawns, starts
 * `new Pool(2)`, runs one `apply` through it and prints one JSON line:
 * `{ atFirstSpawn, spawns, result }`, the globals read before the pool's
 * first process was spawned, how many were spawned, and the result.
 *
 * @module
 */
import { globalsRead } from "./watch_node_globals.ts";

// deno-lint-ignore no-explicit-any
const Command = (globalThis as any).Deno.Command;
let atFirstSpawn: string[] | undefined;
let spawns = 0;
const spawn = Command.prototype.spawn;
Command.prototype.spawn = function (this: unknown) {
  atFirstSpawn ??= [...globalsRead];
  spawns++;
  return spawn.call(this);
};

const { Pool } = await import("../../mod.ts");
const pool = new Pool(2);
try {
  const result = await pool.apply((x: number) => x * 2, [21]);
  console.log(JSON.stringify({ atFirstSpawn, spawns, result }));
} finally {
  await pool.terminate();
}
