import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { unzipSync } from "npm:fflate@^0.8.3";
import { config } from "../../src/config.ts";
import { SkypoolError } from "../../src/errors.ts";
import { buildRuntimeZip, deployRuntime, listRuntimes, removeRuntime, updateRuntime } from "../../src/remote/lambda_runtime.ts";
import { stopBundler } from "../../src/task/bundle.ts";
import { type LambdaServer, startLambdaServer } from "../../src/testing/lambda_server.ts";
import { FAKE_AWS, lambdaClient, lambdaSdk, parsePayload, TEST_ROLE } from "../helpers/lambda_fixtures.ts";

const T = { timeout: 120_000 };
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const STUB = new URL(`./fixtures/stub_lambda_entry${EXT}`, import.meta.url);
const MARKER = new URL(`./fixtures/include_marker${EXT}`, import.meta.url).pathname;

/** The Unix mode of each entry, from the zip's central directory. */
function modes(zip: Uint8Array): Map<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const out = new Map<string, number>();
  for (let i = 0; i + 46 <= zip.length; i++) {
    if (view.getUint32(i, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(i + 28, true);
    const name = new TextDecoder().decode(zip.subarray(i + 46, i + 46 + nameLength));
    out.set(name, view.getUint32(i + 38, true) >>> 16);
  }
  return out;
}

describe("skypool runtime (against the Lambda test server)", () => {
  let server: LambdaServer;
  let client: { endpoint: string } & typeof FAKE_AWS;

  before(async () => {
    server = await startLambdaServer({ activationMs: 100 });
    client = { ...FAKE_AWS, endpoint: server.endpoint };
    config.set({ authkey: "runtime-test-key-0123456789" });
  });
  after(async () => {
    await stopBundler();
    config.reset();
    await server?.close();
  });

  test("build of skypool's handler: its modules loaded by URL are entries next to shared chunks", T, async () => {
    const files = unzipSync(await buildRuntimeZip());
    for (const entry of ["skypool/lambda.js", "skypool/src/executor/call_runner.js", "skypool/src/state/all_handles.js"]) {
      assert.ok(files[entry], `${entry} is in the zip`);
    }
    assert.ok(Object.keys(files).some((f) => f.startsWith("skypool/chunks/")), "shared modules are chunks");
  });

  test("build: index.mjs exports the handler; includes are bundled; every file world-readable", T, async () => {
    const zip = await buildRuntimeZip({ entry: STUB, include: [MARKER, "fflate"] });
    const files = unzipSync(zip);
    const text = (name: string) => new TextDecoder().decode(files[name]);
    assert.match(text("index.mjs"), /export const \{ handler \} = await import\("\.\/skypool\/lambda\.js"\)/);
    assert.match(text("index.mjs"), /await import\("\.\/include\/0_include_marker\.mjs"\)/);
    assert.match(text("skypool/lambda.js"), /stub: true/);
    assert.ok(files["node_modules/fflate/index.mjs"].length > 1000, "the package is bundled under node_modules");
    for (const [name, mode] of modes(zip)) assert.equal(mode & 0o444, 0o444, `${name} is world-readable (mode ${mode.toString(8)})`);
  });

  test("deploy → invoke → update → list → rm", T, async () => {
    const deployed = await deployRuntime({ name: "rt1", role: TEST_ROLE, memory: 256, timeout: 30, entry: STUB, include: [MARKER], client });
    assert.equal(deployed.state, "Active");
    assert.equal(deployed.memory, 256);
    const sdk = await lambdaSdk();
    const lambda = await lambdaClient(server.endpoint);
    try {
      const cfg = await lambda.send(new sdk.GetFunctionEventInvokeConfigCommand({ FunctionName: "rt1" }));
      assert.equal(cfg.MaximumRetryAttempts, 0);
      const r = await lambda.send(new sdk.InvokeCommand({ FunctionName: "rt1", Payload: new TextEncoder().encode('{"x":1}') }));
      assert.deepEqual(parsePayload(r.Payload), { stub: true, event: { x: 1 }, authkeyLength: 27, included: "marker" });
      const updated = await updateRuntime({ name: "rt1", entry: STUB, client });
      assert.equal(updated.name, "rt1");
      const r2 = await lambda.send(new sdk.InvokeCommand({ FunctionName: "rt1", Payload: new TextEncoder().encode("{}") }));
      assert.equal((parsePayload(r2.Payload) as { included?: string }).included, undefined, "the update dropped the include");
      // A function without the tag is not a runtime.
      await lambda.send(new sdk.CreateFunctionCommand({ FunctionName: "other", Runtime: "nodejs20.x", Role: TEST_ROLE, Handler: "index.handler", Code: { ZipFile: await buildRuntimeZip({ entry: STUB }) } }));
      assert.deepEqual((await listRuntimes({ client })).map((f) => f.name), ["rt1"]);
      await removeRuntime({ name: "rt1", client });
      assert.deepEqual(await listRuntimes({ client }), []);
    } finally {
      lambda.destroy();
    }
  });

  test("clear one-line errors: no role, no authkey, unknown function, an existing function, no credentials", T, async () => {
    const oneLine = (re: RegExp) => (e: Error) => e instanceof SkypoolError && re.test(e.message) && !e.message.includes("\n");
    await assert.rejects(deployRuntime({ name: "rt2", entry: STUB, client }), oneLine(/needs an IAM role.*--role/));
    const saved = process.env.SKYPOOL_AUTHKEY;
    delete process.env.SKYPOOL_AUTHKEY;
    config.reset();
    try {
      await assert.rejects(deployRuntime({ name: "rt2", role: TEST_ROLE, entry: STUB, client }), oneLine(/SKYPOOL_AUTHKEY/));
    } finally {
      if (saved !== undefined) process.env.SKYPOOL_AUTHKEY = saved;
      config.set({ authkey: "runtime-test-key-0123456789" });
    }
    await assert.rejects(removeRuntime({ name: "nope", client }), oneLine(/"nope" not found.*skypool runtime deploy nope/));
    await assert.rejects(updateRuntime({ name: "nope", entry: STUB, client }), oneLine(/"nope" not found/));
    await deployRuntime({ name: "rt3", role: TEST_ROLE, entry: STUB, client });
    await assert.rejects(deployRuntime({ name: "rt3", role: TEST_ROLE, entry: STUB, client }), oneLine(/skypool runtime update rt3/));
    const noCredentials = () => Promise.reject(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    await assert.rejects(listRuntimes({ client: { ...client, credentials: noCredentials } }), oneLine(/no AWS credentials found: set AWS_ACCESS_KEY_ID/));
    await removeRuntime({ name: "rt3", client });
  });
});
