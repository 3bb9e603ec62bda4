// The Lambda handler in this process: a batch inline or by a storage URL,
// an answer over the invoke limit stored where the signed batch says, and
// events it must not act on refused before anything is read.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { config } from "../../src/config.ts";
import { SkypoolError } from "../../src/errors.ts";
import { openAnswer, sealBatch } from "../../src/remote/envelope.ts";
import { lambdaHandler } from "../../src/remote/lambda_handler.ts";
import { LAMBDA_PAYLOAD_LIMIT } from "../../src/remote/lambda_payload.ts";
import { Storage } from "../../src/storage/storage.ts";
import { decode, encode } from "../../src/task/codec.ts";
import { makeTempDir, removeDir } from "../helpers/pool_fixtures.ts";

const KEY = "lambda-handler-test-key-0123";
const context = { getRemainingTimeInMillis: () => 60_000, functionName: "t", logStreamName: "s" };
const repeat = { kind: "source" as const, id: "s:repeat", source: "(n) => 'r'.repeat(n)" };

describe("lambdaHandler", () => {
  let dir: string;
  let storage: Storage;
  before(async () => {
    config.set({ authkey: KEY });
    dir = await makeTempDir("skypool-lambda-handler-");
    storage = new Storage(pathToFileURL(join(dir, "store")).href);
  });
  after(async () => {
    config.reset();
    await removeDir(dir);
  });

  test("runs a batch inline and a batch read from its file: URL; only the first invocation of the process is cold", async () => {
    const inline = sealBatch({ fn: repeat, payload: encode([3]), each: true, count: 1 });
    const a = await lambdaHandler({ batch: Buffer.from(inline.bytes).toString("base64") }, context);
    const answerA = openAnswer(Buffer.from(a.result!, "base64"), inline.batchId);
    assert.deepEqual(answerA.kind === "result" && decode(answerA.result.payload), ["rrr"]);
    const stored = sealBatch({ fn: repeat, payload: encode([2]), each: true, count: 1 });
    await storage.put("in.batch", stored.bytes);
    const b = await lambdaHandler({ batchUrl: storage.objectUrl("in.batch") }, context);
    const answerB = openAnswer(Buffer.from(b.result!, "base64"), stored.batchId);
    assert.deepEqual(answerB.kind === "result" && decode(answerB.result.payload), ["rr"]);
    assert.equal(b.cold, false);
  });

  test("an answer over the invoke limit goes to the batch's signed answerUrl, and the handler says so", async () => {
    const answerUrl = storage.objectUrl("out.answer");
    const big = LAMBDA_PAYLOAD_LIMIT;
    const sealed = sealBatch({ fn: repeat, payload: encode([big]), each: true, count: 1, answerUrl });
    const r = await lambdaHandler({ batch: Buffer.from(sealed.bytes).toString("base64") }, context);
    assert.equal(r.stored, true);
    assert.equal(r.result, undefined);
    const answer = openAnswer(await storage.get("out.answer"), sealed.batchId);
    assert.equal(answer.kind === "result" && (decode(answer.result.payload) as string[])[0].length, big);
  });

  test("an event that is not a batch, or names a URL other than file: or s3://, throws before reading anything", async () => {
    await assert.rejects(lambdaHandler({ hello: 1 }, context), (e: Error) => e instanceof SkypoolError && /\{ batch: <base64> \} or \{ batchUrl/.test(e.message));
    for (const url of ["http://169.254.169.254/latest/meta-data", "ftp://x/y", "data:,hi"]) {
      await assert.rejects(lambdaHandler({ batchUrl: url }, context), (e: Error) => e instanceof SkypoolError && /must be a file: or s3:\/\/ object URL/.test(e.message), url);
    }
    await assert.rejects(lambdaHandler({ batchUrl: 42 }, context), (e: Error) => e instanceof SkypoolError && /its event must be/.test(e.message));
  });
});
