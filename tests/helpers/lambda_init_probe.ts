// Probe for tests/remote/lambda_init.test.ts: imports `skypool/lambda` in a
// fresh process (its Init phase, with or without SKYPOOL_AUTHKEY), then
// prints whether the init batch ran and whether the first real invocation
// still reports itself cold.
import { Buffer } from "node:buffer";
import process from "node:process";
import { handler } from "../../lambda.ts";
import { LAMBDA_INIT_FN } from "../../src/remote/lambda_handler.ts";
import { compiledFunction } from "../../src/task/function_loader.ts";
import { sealBatch } from "../../src/remote/envelope.ts";
import { encode } from "../../src/task/codec.ts";

const primed = compiledFunction({ ...LAMBDA_INIT_FN }) !== undefined;
const key = process.env.SKYPOOL_AUTHKEY;
let cold: boolean | undefined;
if (key !== undefined) {
  const { bytes } = sealBatch({ fn: { kind: "source", id: "s:probe", source: "(x) => x + 1" }, payload: encode([1]), each: true, count: 1 }, key);
  cold = (await handler({ batch: Buffer.from(bytes).toString("base64") }, { getRemainingTimeInMillis: () => 10_000 })).cold;
}
console.log(JSON.stringify({ primed, cold }));
