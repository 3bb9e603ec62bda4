// The Lambda handler's Init phase: importing `skypool/lambda` with a key
// runs one batch of its own (so the first invocation finds the worker's
// code compiled), without taking the first invocation's cold start; with
// no key it runs nothing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { runProbe } from "../helpers/run_probe.ts";

/** The probe's verdict, run with `key` as SKYPOOL_AUTHKEY (none when `undefined`). */
async function probe(key: string | undefined): Promise<unknown> {
  const env: Record<string, string | undefined> = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  delete env.SKYPOOL_AUTHKEY;
  if (key !== undefined) env.SKYPOOL_AUTHKEY = key;
  return JSON.parse((await runProbe("lambda_init_probe", env)).stdout.trim().split("\n").at(-1)!);
}

describe("skypool/lambda init", () => {
  test("with SKYPOOL_AUTHKEY, import runs the init batch and the first invocation is still the cold one", async () => {
    assert.deepEqual(await probe("lambda-init-test-key-0123"), { primed: true, cold: true });
  });

  test("without a key, import runs nothing", async () => {
    assert.deepEqual(await probe(undefined), { primed: false });
  });
});
