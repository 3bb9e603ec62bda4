// Opt-in: the lambda transport on real AWS. Runs only with
// SKYPOOL_LIVE_AWS=1, AWS credentials, SKYPOOL_LAMBDA_ROLE and
// SKYPOOL_AUTHKEY set; deploys a function of its own, runs a Pool on it and
// removes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Pool } from "../../src/pool.ts";
import { deployRuntime, removeRuntime } from "../../src/remote/lambda_runtime.ts";
import { stopBundler } from "../../src/task/bundle.ts";
import { lambdaTransport } from "../../src/transport/lambda.ts";

const live = process.env.SKYPOOL_LIVE_AWS === "1";
const missing = ["SKYPOOL_LAMBDA_ROLE", "SKYPOOL_AUTHKEY"].filter((v) => !process.env[v]);
const skip = !live
  ? "set SKYPOOL_LIVE_AWS=1 (with AWS credentials, SKYPOOL_LAMBDA_ROLE and SKYPOOL_AUTHKEY) to run against real AWS Lambda"
  : missing.length > 0 ? `SKYPOOL_LIVE_AWS=1 but ${missing.join(" and ")} unset` : false;

test("live AWS: deploy, Pool.map on Lambda, remove", { skip, timeout: 600_000 }, async () => {
  const name = `skypool-live-${Date.now().toString(36)}`;
  await deployRuntime({ name, memory: 512, timeout: 60 });
  try {
    const pool = new Pool({ transport: lambdaTransport({ processes: 20, channel: { functionName: name } }) });
    try {
      const out = await pool.map((x: number) => x * x, Array.from({ length: 100 }, (_, i) => i), 5);
      assert.deepEqual(out, Array.from({ length: 100 }, (_, i) => i * i));
    } finally {
      await pool.terminate();
    }
  } finally {
    await removeRuntime({ name });
    await stopBundler();
  }
});
