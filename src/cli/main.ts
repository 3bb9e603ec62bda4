/**
 * The `skypool` command line: the program and its subcommands (from
 * `commands.ts`), run with one rule for every failure: one line on stderr
 * and exit status 1 (the stack too when `DEBUG` is set).
 *
 * @module
 */
import { Command, CommanderError } from "npm:commander@^14.0.3";
import process from "node:process";
import { commands } from "./commands.ts";
import { packageVersion } from "./version.ts";

/** Where the program writes (the process's streams; tests capture them). */
export interface CliOutput {
  /** Normal output (help, results). */
  out(text: string): void;
  /** Errors. */
  err(text: string): void;
}

const processOutput: CliOutput = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Commander's parse errors and help/version requests, on `cmd` and every subcommand under it. */
function configure(cmd: Command, output: CliOutput): void {
  cmd.exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err });
  for (const sub of cmd.commands) {
    // Commands made apart (addCommand) inherit nothing by themselves: the same help flag everywhere.
    sub.copyInheritedSettings(cmd);
    configure(sub, output);
  }
}

/**
 * The `skypool` program with every subcommand, ready to parse.
 *
 * @example
 * ```ts
 * import { buildProgram } from "./src/cli/main.ts";
 * const program = await buildProgram();
 * console.assert(program.name() === "skypool" && program.commands.length > 0);
 * ```
 */
export async function buildProgram(output: CliOutput = processOutput): Promise<Command> {
  const program = new Command("skypool")
    .description("skypool's command line: workers, servers, runtimes and clean-up (each command has --help).")
    .version(await packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for the command")
    .helpCommand("help [command]", "show help for a command");
  for (const make of commands) program.addCommand(make());
  configure(program, output);
  return program;
}

/** `err`'s message on one line (a message of several lines is joined). */
function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\n\s*/g, " ").trim() || (err instanceof Error ? err.name : "failed");
}

/**
 * Runs `skypool` with `argv` (the arguments after the program name) and
 * resolves with the exit status: 0 on success, `--help` and `--version`;
 * commander's status (1) for a usage error, after its one-line message;
 * 1 when the command fails, after one line `skypool: <message>` on stderr
 * (followed by the stack when the `DEBUG` variable is set). Never rejects.
 *
 * @example
 * ```ts
 * import { main } from "./src/cli/main.ts";
 * let printed = "";
 * const status = await main(["--version"], { out: (t) => void (printed += t), err: () => {} });
 * console.assert(status === 0 && printed.trim().length > 0);
 * ```
 */
export async function main(argv: readonly string[] = process.argv.slice(2), output: CliOutput = processOutput): Promise<number> {
  try {
    const program = await buildProgram(output);
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (err) {
    // Commander printed its own message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode;
    output.err(`skypool: ${oneLine(err)}\n`);
    if (process.env.DEBUG) output.err(`${(err as Error)?.stack ?? err}\n`);
    return 1;
  }
}
