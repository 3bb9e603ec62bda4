// `skypool runtime …` parsed by commander, against the Lambda test server
// (reached through AWS_ENDPOINT_URL_LAMBDA, as a user would).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { runtimeCommand } from "../../src/cli/runtime_command.ts";
import { config } from "../../src/config.ts";
import { listRuntimes } from "../../src/remote/lambda_runtime.ts";
import { stopBundler } from "../../src/task/bundle.ts";
import { type LambdaServer, startLambdaServer } from "../../src/testing/lambda_server.ts";
import { makeTempDir, removeDir } from "../helpers/pool_fixtures.ts";
import { TEST_ROLE } from "../helpers/lambda_fixtures.ts";

const T = { timeout: 120_000 };
const VARS = ["AWS_ENDPOINT_URL_LAMBDA", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "SKYPOOL_AUTHKEY"];

/** Runs `skypool runtime <args>`; what it printed. */
async function cli(...args: string[]): Promise<string> {
  let out = "";
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    const cmd = runtimeCommand();
    // Errors throw instead of exiting the test process (subcommands were made before this, so each is told).
    for (const c of [cmd, ...cmd.commands]) c.exitOverride().configureOutput({ writeErr: () => {} });
    await cmd.parseAsync(args, { from: "user" });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe("skypool runtime (command line)", () => {
  let server: LambdaServer;
  let dir: string;
  const saved = new Map<string, string | undefined>();
  before(async () => {
    server = await startLambdaServer({ activationMs: 50 });
    dir = await makeTempDir("skypool-runtime-cli-");
    for (const v of VARS) saved.set(v, process.env[v]);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_LAMBDA: server.endpoint,
      AWS_ACCESS_KEY_ID: "AKIDTEST",
      AWS_SECRET_ACCESS_KEY: "secret-test-key",
      AWS_REGION: "us-east-1",
      SKYPOOL_AUTHKEY: "runtime-cli-test-key-0123",
    });
    config.reset();
  });
  after(async () => {
    for (const [k, v] of saved) v === undefined ? delete process.env[k] : (process.env[k] = v);
    config.reset();
    await stopBundler();
    await server?.close();
    await removeDir(dir);
  });

  test("build writes the zip; deploy, list, update and rm manage the function", T, async () => {
    const zip = join(dir, "rt.zip");
    assert.match(await cli("build", "--output", zip), /rt\.zip \(\d+ bytes\)/);
    assert.ok(existsSync(zip) && readFileSync(zip).subarray(0, 2).toString() === "PK");
    assert.match(await cli("deploy", "cli-fn", "--role", TEST_ROLE, "--memory", "512", "--timeout", "20"), /^cli-fn\tnodejs20\.x\t512 MB\t20 s\tActive\t/);
    assert.match(await cli("list"), /^cli-fn\t/m);
    assert.match(await cli("update", "cli-fn"), /^cli-fn\t/);
    assert.equal(await cli("rm", "cli-fn"), "removed cli-fn\n");
    assert.deepEqual(await listRuntimes(), []);
  });

  test("bad input and AWS errors are one clear line", T, async () => {
    await assert.rejects(cli("deploy", "x", "--memory", "64"), /--memory.*expected an integer from 128 to 10240/);
    await assert.rejects(cli("deploy", "x"), /needs an IAM role/);
    await assert.rejects(cli("rm", "ghost"), /"ghost" not found/);
  });
});
