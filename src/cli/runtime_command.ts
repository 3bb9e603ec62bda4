/**
 * `skypool runtime build|deploy|update|list|rm`: Lambda runtimes from the
 * command line, over `src/remote/lambda_runtime.ts`.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import process from "node:process";
import { Command, InvalidArgumentError } from "npm:commander@^14.0.3";
import { config } from "../config.ts";
import { buildRuntimeZip, deployRuntime, listRuntimes, removeRuntime, type RuntimeInfo, updateRuntime } from "../remote/lambda_runtime.ts";

/** A whole number in `[min, max]` from an option's text. */
function integerIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function show(r: RuntimeInfo): string {
  return `${r.name}\t${r.runtime}\t${r.memory} MB\t${r.timeout} s\t${r.state}\t${r.arn}`;
}

interface DeployFlags {
  memory?: number;
  timeout?: number;
  role?: string;
  architecture?: "x86_64" | "arm64";
  runtime?: string;
  include?: string[];
}

/**
 * The `runtime` command and its subcommands.
 *
 * @example
 * ```ts
 * import { runtimeCommand } from "./src/cli/runtime_command.ts";
 * const cmd = runtimeCommand();
 * console.assert(cmd.name() === "runtime" && cmd.commands.some((c) => c.name() === "deploy"));
 * ```
 */
export function runtimeCommand(): Command {
  const runtime = new Command("runtime").description("build and deploy the skypool runtime as an AWS Lambda function");
  const includeOption = ["--include <module>", "bundle this module too (a path is imported at start; a package goes to node_modules); repeatable", collect] as const;

  runtime.command("build")
    .description("build the runtime's zip (index.mjs = the skypool Lambda handler)")
    .option("-o, --output <file>", "where to write the zip", "skypool-runtime.zip")
    .option(...includeOption)
    .action(async (flags: { output: string; include?: string[] }) => {
      const zip = await buildRuntimeZip({ include: flags.include });
      writeFileSync(flags.output, zip);
      process.stdout.write(`${flags.output} (${zip.length} bytes)\n`);
    });

  runtime.command("deploy")
    .description("create the Lambda function (waits until it is Active)")
    .argument("[name]", "function name (default: lambda.functionName, SKYPOOL_LAMBDA_FUNCTION)")
    .option("--memory <MB>", "memory size, 128-10240 MB (default: lambda.memory)", integerIn(128, 10_240))
    .option("--timeout <S>", "timeout, 1-900 s (default: lambda.timeout)", integerIn(1, 900))
    .option("--role <ARN>", "the function's IAM role (default: lambda.role, SKYPOOL_LAMBDA_ROLE)")
    .option("--architecture <arch>", "x86_64 or arm64", "x86_64")
    .option("--runtime <id>", "the managed Node runtime", "nodejs20.x")
    .option(...includeOption)
    .action(async (name: string | undefined, flags: DeployFlags) => {
      if (flags.architecture !== "x86_64" && flags.architecture !== "arm64") {
        throw new InvalidArgumentError(`--architecture must be x86_64 or arm64, got ${flags.architecture}`);
      }
      process.stdout.write(show(await deployRuntime({ name, ...flags })) + "\n");
    });

  runtime.command("update")
    .description("rebuild the runtime and replace the function's code (waits until done)")
    .argument("[name]", "function name (default: lambda.functionName)")
    .option(...includeOption)
    .action(async (name: string | undefined, flags: { include?: string[] }) => {
      process.stdout.write(show(await updateRuntime({ name, include: flags.include })) + "\n");
    });

  runtime.command("list")
    .description("list the functions deployed by skypool (tagged skypool) in this region")
    .action(async () => {
      for (const r of await listRuntimes()) process.stdout.write(show(r) + "\n");
    });

  runtime.command("rm")
    .description("delete the function")
    .argument("[name]", "function name (default: lambda.functionName)")
    .action(async (name: string | undefined) => {
      const target = name ?? config.get().lambda.functionName;
      await removeRuntime({ name: target });
      process.stdout.write(`removed ${target}\n`);
    });

  return runtime;
}
