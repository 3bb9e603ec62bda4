/**
 * The AWS Lambda client shared by the `lambda` transport and `skypool
 * runtime`: `@aws-sdk/client-lambda` loaded on first use, a client with the
 * region and endpoint the SDK would read (or the ones given), and AWS
 * errors a user can provoke turned into one clear line.
 *
 * @module
 */
import { SkypoolError } from "../errors.ts";
import { cjsExports } from "../task/cjs_exports.ts";

/** The SDK module. */
export type LambdaSdk = typeof import("npm:@aws-sdk/client-lambda@~3.1178.0");
/** A client of the SDK. */
export type LambdaClient = InstanceType<LambdaSdk["LambdaClient"]>;
/**
 * Settings of the Lambda client: every field of the SDK's
 * `LambdaClientConfig` is passed through as it is (the common ones are
 * named here; the SDK's types are not part of skypool's public types, so
 * the SDK loads only on first use).
 */
export interface LambdaClientOptions {
  /** The AWS region. @default `AWS_REGION`, else `AWS_DEFAULT_REGION`, else "us-east-1" */
  region?: string;
  /** An endpoint override (a test server, a VPC endpoint). @default `AWS_ENDPOINT_URL_LAMBDA`, else AWS's */
  endpoint?: string;
  /** Credentials, or a function that provides them. @default the SDK's credential chain (env, profile, IAM role) */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>);
  /** How many attempts the SDK makes per call. @default 3 */
  maxAttempts?: number;
  /** Any other `LambdaClientConfig` field. */
  [setting: string]: unknown;
}

/** An AWS access key (and session token, for temporary credentials). */
export interface AwsCredentials {
  /** The access key id. */
  accessKeyId: string;
  /** The secret access key. */
  secretAccessKey: string;
  /** The session token of temporary credentials. */
  sessionToken?: string;
}

type SdkClientConfig = import("npm:@aws-sdk/client-lambda@~3.1178.0").LambdaClientConfig;

let sdk: Promise<LambdaSdk> | undefined;

/** The SDK, imported once, on first use. */
export function loadLambdaSdk(): Promise<LambdaSdk> {
  return sdk ??= import("npm:@aws-sdk/client-lambda@~3.1178.0").then((m) => cjsExports(m, "LambdaClient"));
}

/** A variable's value, `undefined` when unset or empty. */
function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}

/**
 * A Lambda client: `options` over the region of `AWS_REGION` /
 * `AWS_DEFAULT_REGION` (else `us-east-1`); the SDK itself reads the
 * endpoint (`AWS_ENDPOINT_URL_LAMBDA`) and the credentials.
 */
export async function makeLambdaClient(options: LambdaClientOptions = {}): Promise<LambdaClient> {
  const { LambdaClient } = await loadLambdaSdk();
  return new LambdaClient({ region: env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1", ...options } as SdkClientConfig);
}

/** The HTTP status of an SDK error, if it got an answer. */
export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/**
 * `err` from an SDK call about function `name`, as a {@link SkypoolError}
 * with one line saying what is wrong and what to do, for the errors a user
 * can provoke (no credentials, no such function, a refused role, an existing
 * function, a request too large); other errors are returned unchanged.
 */
export function describeAwsError(err: unknown, name: string): unknown {
  const e = err as Error & { name?: string };
  const msg = String(e?.message ?? e);
  const why = (text: string) => new SkypoolError(text, { cause: err });
  switch (e?.name) {
    case "CredentialsProviderError":
      return why(
        "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (or run where an IAM role provides them)",
      );
    case "ResourceNotFoundException":
      return why(`Lambda function ${JSON.stringify(name)} not found (${msg}): deploy it with \`skypool runtime deploy ${name}\`, or set lambda.functionName (SKYPOOL_LAMBDA_FUNCTION)`);
    case "ResourceConflictException":
      return why(`Lambda function ${JSON.stringify(name)}: ${msg} (an existing function is replaced with \`skypool runtime update ${name}\`)`);
    case "RequestTooLargeException":
      return why(`the request to Lambda function ${JSON.stringify(name)} is too large: ${msg}`);
    case "AccessDeniedException":
    case "UnrecognizedClientException":
    case "InvalidSignatureException":
      return why(`AWS refused the credentials for Lambda function ${JSON.stringify(name)}: ${msg}`);
    case "InvalidParameterValueException":
    case "ValidationException":
      return /role/i.test(msg)
        ? why(`Lambda refused the role for ${JSON.stringify(name)}: ${msg} (the role must exist and trust lambda.amazonaws.com; see the README)`)
        : why(`Lambda refused a setting of ${JSON.stringify(name)}: ${msg}`);
  }
  return err;
}
