/**
 * `skypool/testing`: tools for testing skypool code offline — an AWS Lambda
 * Invoke-API test server that the real `@aws-sdk/client-lambda` (and so
 * `skypool runtime deploy` and the `lambda` transport) can be pointed at.
 *
 * @example
 * ```ts
 * import { startLambdaServer } from "./testing.ts";
 * const server = await startLambdaServer({ concurrency: 4, coldStartMs: 200 });
 * // AWS_ENDPOINT_URL_LAMBDA=server.endpoint, then deploy and run as on AWS.
 * await server.close();
 * ```
 *
 * @module
 */
export { type LambdaServer, type LambdaServerOptions, type LambdaServerStats, startLambdaServer } from "./src/testing/lambda_server.ts";
