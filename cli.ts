#!/usr/bin/env node
/**
 * The `skypool` command (the npm package's `bin`; on Deno
 * `deno run -A cli.ts`): `skypool --help` lists the subcommands.
 *
 * @module
 */
import process from "node:process";
import { main } from "./src/cli/main.ts";

const status = await main(process.argv.slice(2));
// Exit once what was written has drained, so that a connection or timer
// left behind by a command cannot keep the process alive.
process.stdout.write("", () => process.exit(status));
