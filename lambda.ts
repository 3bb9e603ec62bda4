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
