/**
 * The error a storage read raises when what it names is not there.
 *
 * @module
 */
import { SkypoolError } from "../errors.ts";

/**
 * An object, file, bucket or URL that a {@link Storage} call or a data
 * partition names does not exist. `url` is what was looked for.
 *
 * @example
 * ```ts
 * import { ObjectNotFoundError, SkypoolError } from "./mod.ts";
 * const err = new ObjectNotFoundError("s3://bucket/key", "no object at s3://bucket/key");
 * console.assert(err instanceof SkypoolError && err.url === "s3://bucket/key");
 * ```
 */
export class ObjectNotFoundError extends SkypoolError {
  /** The URL that was looked for. */
  readonly url: string;

  /**
   * An error for a missing object at `url`.
   * @param url the URL that was looked for.
   * @param message the error message (default: `no object at <url>`).
   * @param options the standard `Error` options (`cause`).
   */
  constructor(url: string, message = `no object at ${url}`, options?: ErrorOptions) {
    super(message, options);
    this.url = url;
  }
}
