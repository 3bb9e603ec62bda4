/**
 * Test helpers for the Lambda test server: a real `@aws-sdk/client-lambda`
 * client pointed at it (fake credentials, no retries unless asked), and
 * zips of handler sources.
 *
 * @module
 */
import process from "node:process";
import { strToU8, zipSync } from "npm:fflate@^0.8.3";

// The SDK warns on stderr about Node versions it will drop (only "true" turns it off); tests pin the range.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

export type LambdaSdk = typeof import("npm:@aws-sdk/client-lambda@~3.1178.0");

/** The SDK, loaded on first use. */
export function lambdaSdk(): Promise<LambdaSdk> {
  return import("npm:@aws-sdk/client-lambda@~3.1178.0");
}

/** The fake credentials and region every test client uses. */
export const FAKE_AWS = {
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret-test-key" },
};

/** A role ARN the server accepts. */
export const TEST_ROLE = "arn:aws:iam::123456789012:role/skypool-test";

/** A client of the server at `endpoint` (`maxAttempts` 1: tests see each answer). */
export async function lambdaClient(endpoint: string, maxAttempts = 1): Promise<InstanceType<LambdaSdk["LambdaClient"]>> {
  const { LambdaClient } = await lambdaSdk();
  return new LambdaClient({ ...FAKE_AWS, endpoint, maxAttempts });
}

/** A zip holding `index.mjs` = `source` (and any other files). */
export function zipOf(source: string, others: Record<string, string> = {}): Uint8Array {
  const files: Record<string, Uint8Array> = { "index.mjs": strToU8(source) };
  for (const [name, text] of Object.entries(others)) files[name] = strToU8(text);
  return zipSync(files);
}

/** The payload of an InvokeCommand answer, parsed. */
export function parsePayload(payload: Uint8Array | undefined): unknown {
  return JSON.parse(new TextDecoder().decode(payload ?? new Uint8Array()));
}
