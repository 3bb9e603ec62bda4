import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { commands } from "../../src/cli/commands.ts";
import { main } from "../../src/cli/main.ts";
import { cliRoot, runCli } from "./run_cli.ts";

import type { Command } from "npm:commander@^14.0.3";

const names = commands.map((make) => make().name());

/** Every command's path (`["runtime", "build"]`), subcommands included. */
function paths(cmd: Command, prefix: string[] = []): string[][] {
  const here = [...prefix, cmd.name()];
  return [here, ...cmd.commands.flatMap((sub) => paths(sub, here))];
}
const commandPaths = commands.flatMap((make) => paths(make()));

/** The lines of `text` without the empty last one. */
const lines = (text: string) => text.split("\n").filter((l, i, all) => l !== "" || i < all.length - 1);

describe("skypool (the program)", () => {
  it("--help lists every command and exits 0", async () => {
    const run = await runCli(["--help"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^Usage: skypool \[options\] \[command\]/);
    for (const name of names) assert.match(run.stdout, new RegExp(`^  ${name}\\b`, "m"), `--help lists ${name}`);
    assert.equal(run.stderr, "");
  });

  for (const path of commandPaths) {
    it(`${path.join(" ")} --help shows the command's usage and exits 0`, async () => {
      const run = await runCli([...path, "--help"]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^Usage: skypool ${path.join(" ")}\\b`));
      assert.match(run.stdout, /-h, --help/);
    });
  }

  it("help <command> shows that command's usage; no command at all shows the usage on stderr and exits non-zero", async () => {
    const run = await runCli(["help", names[0]]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Usage: skypool ${names[0]}\\b`));
    const bare = await runCli([]);
    assert.notEqual(bare.status, 0);
    assert.match(bare.stderr, /^Usage: skypool/);
  });

  it("--version prints the package's version", async () => {
    const version = JSON.parse(readFileSync(join(cliRoot, "package.json"), "utf8")).version;
    const run = await runCli(["--version"]);
    assert.equal(run.status, 0);
    assert.equal(run.stdout.trim(), version);
  });

  it("an unknown option exits non-zero with one line on stderr", async () => {
    const run = await runCli(["clean", "--no-such-option"]);
    assert.notEqual(run.status, 0);
    assert.equal(lines(run.stderr).length, 1, run.stderr);
    assert.match(run.stderr, /unknown option '--no-such-option'/);
    assert.equal(run.stdout, "");
  });

  it("an unknown command exits non-zero with one line on stderr", async () => {
    const run = await runCli(["no-such-command"]);
    assert.notEqual(run.status, 0);
    assert.equal(lines(run.stderr).length, 1, run.stderr);
    assert.match(run.stderr, /unknown command 'no-such-command'/);
  });

  it("a failing command prints one line 'skypool: …' and exits 1; DEBUG adds the stack", async () => {
    const run = await runCli(["clean", "--redis", "not-a-url", "--all"]);
    assert.equal(run.status, 1);
    assert.deepEqual(lines(run.stderr).length, 1, run.stderr);
    assert.match(run.stderr, /^skypool: --redis: must be a redis:\/\/.* got "not-a-url"\n$/);
    const debug = await runCli(["clean", "--redis", "not-a-url", "--all"], { DEBUG: "1" });
    assert.equal(debug.status, 1);
    assert.match(debug.stderr, /^skypool: --redis: /);
    assert.match(debug.stderr, /\n\s+at /, "the stack follows with DEBUG");
  });
});

describe("main (in process)", () => {
  it("resolves with the status instead of exiting, and writes to the output given", async () => {
    let out = "";
    let err = "";
    const output = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
    assert.equal(await main(["--help"], output), 0);
    assert.match(out, /Usage: skypool/);
    out = "";
    assert.notEqual(await main(["--bogus"], output), 0);
    assert.match(err, /unknown option '--bogus'/);
    assert.equal(out, "");
  });
});
