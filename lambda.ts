/**
 * `skypool/lambda`: the AWS Lambda handler of the `lambda` transport.
 * `skypool runtime deploy` bundles it as the function's `index.handler`;
 * the function needs `SKYPOOL_AUTHKEY` (deploy sets it).
 *
 * @example
 * ```ts
 * import { handler } from "./lambda.ts";
 * console.assert(typeof handler === "function");
 * ```
 *
 * @module
 */
export { type LambdaBatchAnswer, type LambdaBatchEvent, type LambdaContextLike, lambdaHandler as handler } from "./src/remote/lambda_handler.ts";
import { lambdaInit } from "./src/remote/lambda_handler.ts";

// Importing this module is the function's Init phase: it ends once the
// handler's code paths are warm (see `prime` in lambda_handler.ts).
await lambdaInit;
