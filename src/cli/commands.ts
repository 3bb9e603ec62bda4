/**
 * The subcommands of `skypool`, one factory each (each command is one file
 * of `src/cli/`). `main.ts` adds them in this order.
 *
 * @module
 */
import type { Command } from "npm:commander@^14.0.3";
import { cleanCommand } from "./clean_command.ts";
import { runtimeCommand } from "./runtime_command.ts";
import { serveCommand } from "./serve_command.ts";
import { workerCommand } from "./worker_command.ts";

/**
 * Every subcommand's factory.
 *
 * @example
 * ```ts
 * import { commands } from "./src/cli/commands.ts";
 * console.assert(commands.map((make) => make().name()).includes("clean"));
 * ```
 */
export const commands: ReadonlyArray<() => Command> = [
  workerCommand,
  serveCommand,
  runtimeCommand,
  cleanCommand,
];
