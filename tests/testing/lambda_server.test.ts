import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LambdaServer, startLambdaServer } from "../../src/testing/lambda_server.ts";
import { lambdaClient, type LambdaSdk, lambdaSdk, parsePayload, TEST_ROLE, zipOf } from "../helpers/lambda_fixtures.ts";

const T = { timeout: 60_000 };

const HANDLER = `
import { writeFileSync } from "node:fs";
let calls = 0;
export async function handler(event, context) {
  calls++;
  if (event.throw) throw new TypeError("bad " + event.throw);
  if (event.exit !== undefined) process.exit(event.exit);
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
  if (event.touch) writeFileSync(event.touch, "ran");
  if (event.big) return "x".repeat(event.big);
  console.log("log lines go to the function's log, not the reply");
  return { echo: event, calls, name: context.functionName, remaining: context.getRemainingTimeInMillis(), v: process.env.MARK };
}
`;

describe("Lambda test server (driven by @aws-sdk/client-lambda)", () => {
  let server: LambdaServer;
  let sdk: LambdaSdk;
  let client: Awaited<ReturnType<typeof lambdaClient>>;
  let dir: string;

  before(async () => {
    server = await startLambdaServer({ concurrency: 2, activationMs: 200, retryAfterSeconds: 0.5 });
    sdk = await lambdaSdk();
    client = await lambdaClient(server.endpoint);
    dir = mkdtempSync(join(tmpdir(), "skypool-lambda-test-"));
    await client.send(new sdk.CreateFunctionCommand({
      FunctionName: "echo",
      Runtime: "nodejs20.x",
      Role: TEST_ROLE,
      Handler: "index.handler",
      Timeout: 1,
      Code: { ZipFile: zipOf(HANDLER) },
      Environment: { Variables: { MARK: "v1" } },
      Tags: { skypool: "1" },
    }));
  });
  after(async () => {
    client?.destroy();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const invoke = (payload: unknown, type?: "Event" | "DryRun") =>
    client.send(new sdk.InvokeCommand({ FunctionName: "echo", InvocationType: type, Payload: new TextEncoder().encode(JSON.stringify(payload)) }));

  test("a new function is Pending, then Active; invoking while Pending is refused", T, async () => {
    const created = await client.send(new sdk.GetFunctionCommand({ FunctionName: "echo" }));
    if (created.Configuration?.State === "Pending") {
      await assert.rejects(invoke({}), (e: Error) => e.name === "ResourceConflictException");
    }
    const waited = await sdk.waitUntilFunctionActiveV2({ client, maxWaitTime: 20 }, { FunctionName: "echo" });
    assert.equal(waited.state, "SUCCESS");
    const got = await client.send(new sdk.GetFunctionCommand({ FunctionName: "echo" }));
    assert.equal(got.Configuration?.State, "Active");
    assert.equal(got.Tags?.skypool, "1");
  });

  test("RequestResponse runs the handler in a warm environment: one cold start for two calls", T, async () => {
    const before = server.stats();
    const a = await invoke({ n: 1 });
    const b = await invoke({ n: 2 });
    assert.equal(a.StatusCode, 200);
    assert.equal(a.FunctionError, undefined);
    const pa = parsePayload(a.Payload) as { echo: unknown; calls: number; name: string; remaining: number; v: string };
    const pb = parsePayload(b.Payload) as typeof pa;
    assert.deepEqual(pa.echo, { n: 1 });
    assert.equal(pa.name, "echo");
    assert.equal(pa.v, "v1");
    assert.ok(pa.remaining > 0 && pa.remaining <= 1000, `remaining ${pa.remaining}`);
    assert.equal(pb.calls, pa.calls + 1, "the second call ran in the same process");
    const after = server.stats();
    assert.equal(after.invocations - before.invocations, 2);
    assert.ok(after.coldStarts - before.coldStarts <= 1);
  });

  test("a thrown error is 200 + X-Amz-Function-Error with the Node error body", T, async () => {
    const r = await invoke({ throw: "input" });
    assert.equal(r.StatusCode, 200);
    assert.equal(r.FunctionError, "Unhandled");
    const body = parsePayload(r.Payload) as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(body.errorType, "TypeError");
    assert.equal(body.errorMessage, "bad input");
    assert.match(body.trace[0], /TypeError: bad input/);
  });

  test("past the timeout: Sandbox.Timedout; process.exit: Runtime.ExitError; the next call still runs", T, async () => {
    const slow = await invoke({ sleep: 3000 });
    assert.equal(slow.FunctionError, "Unhandled");
    const t = parsePayload(slow.Payload) as { errorType: string; errorMessage: string };
    assert.equal(t.errorType, "Sandbox.Timedout");
    assert.match(t.errorMessage, /Task timed out after 1\.00 seconds/);
    const exit = await invoke({ exit: 3 });
    const e = parsePayload(exit.Payload) as { errorType: string; errorMessage: string };
    assert.equal(exit.FunctionError, "Unhandled");
    assert.equal(e.errorType, "Runtime.ExitError");
    assert.match(e.errorMessage, /exit status 3/);
    const ok = await invoke({ n: 3 });
    assert.deepEqual((parsePayload(ok.Payload) as { echo: unknown }).echo, { n: 3 });
  });

  test("payload limits: 413 past 6 MB in, Function.ResponseSizeTooLarge past 6 MB out, 413 past 1 MB for Event", T, async () => {
    await assert.rejects(invoke({ pad: "x".repeat(6 * 1024 * 1024) }), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, "RequestTooLargeException");
      assert.equal(e.$metadata?.httpStatusCode, 413);
      return true;
    });
    // Its own function, with room in its timeout for 7 MB to cross a loaded machine.
    await client.send(new sdk.CreateFunctionCommand({ FunctionName: "big", Runtime: "nodejs20.x", Role: TEST_ROLE, Timeout: 60, Code: { ZipFile: zipOf(HANDLER) } }));
    await sdk.waitUntilFunctionActiveV2({ client, maxWaitTime: 20 }, { FunctionName: "big" });
    const big = await client.send(new sdk.InvokeCommand({ FunctionName: "big", Payload: new TextEncoder().encode(JSON.stringify({ big: 7 * 1024 * 1024 })) }));
    assert.equal(big.FunctionError, "Unhandled");
    assert.equal((parsePayload(big.Payload) as { errorType: string }).errorType, "Function.ResponseSizeTooLarge");
    await assert.rejects(invoke({ pad: "x".repeat(1024 * 1024) }, "Event"), (e: Error) => e.name === "RequestTooLargeException");
  });

  test("Event answers 202 and runs later; DryRun answers 204 and runs nothing", T, async () => {
    const ran = join(dir, "event-ran");
    const dry = join(dir, "dry-ran");
    assert.equal((await invoke({ touch: dry }, "DryRun")).StatusCode, 204);
    assert.equal((await invoke({ touch: ran }, "Event")).StatusCode, 202);
    const deadline = Date.now() + 20_000;
    while (!existsSync(ran) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(ran), "the Event invocation ran");
    assert.equal(existsSync(dry), false);
  });

  test("past the concurrency limit: 429 TooManyRequestsException with Retry-After", T, async () => {
    const before = server.stats().throttled;
    const results = await Promise.allSettled([invoke({ sleep: 400 }), invoke({ sleep: 400 }), invoke({ sleep: 400 })]);
    const rejected = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    assert.equal(rejected.length, 1);
    const err = rejected[0].reason as Error & { $metadata?: { httpStatusCode?: number }; $response?: { headers: Record<string, string> } };
    assert.equal(err.name, "TooManyRequestsException");
    assert.equal(err.$metadata?.httpStatusCode, 429);
    assert.equal(err.$response?.headers["retry-after"], "0.5");
    assert.equal(server.stats().throttled - before, 1);
    assert.ok(server.stats().peakConcurrency <= 2);
  });

  test("update code, event-invoke-config, list with tags, delete; unknown functions are ResourceNotFoundException", T, async () => {
    await client.send(new sdk.UpdateFunctionCodeCommand({ FunctionName: "echo", ZipFile: zipOf("export const handler = async () => 'v2';") }));
    await sdk.waitUntilFunctionUpdatedV2({ client, maxWaitTime: 20 }, { FunctionName: "echo" });
    assert.equal(parsePayload((await invoke({})).Payload), "v2");
    const cfg = await client.send(new sdk.PutFunctionEventInvokeConfigCommand({ FunctionName: "echo", MaximumRetryAttempts: 0 }));
    assert.equal(cfg.MaximumRetryAttempts, 0);
    const listed = await client.send(new sdk.ListFunctionsCommand({}));
    const arn = listed.Functions?.find((f) => f.FunctionName === "echo")?.FunctionArn;
    assert.ok(arn);
    assert.deepEqual((await client.send(new sdk.ListTagsCommand({ Resource: arn }))).Tags, { skypool: "1" });
    await client.send(new sdk.DeleteFunctionCommand({ FunctionName: "echo" }));
    await assert.rejects(invoke({}), (e: Error) => e.name === "ResourceNotFoundException" && /Function not found/.test(e.message));
    await assert.rejects(client.send(new sdk.GetFunctionCommand({ FunctionName: "echo" })), (e: Error) => e.name === "ResourceNotFoundException");
  });

  test("CreateFunction refuses a bad role and a zip that is not one", T, async () => {
    const base = { FunctionName: "bad", Runtime: "nodejs20.x" as const, Handler: "index.handler" };
    await assert.rejects(client.send(new sdk.CreateFunctionCommand({ ...base, Role: "not-a-role", Code: { ZipFile: zipOf("") } })), /role/);
    await assert.rejects(
      client.send(new sdk.CreateFunctionCommand({ ...base, Role: TEST_ROLE, Code: { ZipFile: new TextEncoder().encode("not a zip") } })),
      (e: Error) => e.name === "InvalidParameterValueException" && /unzip/.test(e.message),
    );
  });
});
