/**
 * `objects(...urls)`: marks iterdata whose items are data to split into
 * partitions rather than values to pass as they are.
 *
 * @module
 */
import { storageScheme } from "./storage.ts";
import { nodePath, nodeUrl } from "../runtime/builtins.ts";

const URL_SCHEME = /^[a-z][a-z0-9+.-]+:/i;

/**
 * Data sources to partition: `file:` URLs, `s3://` URLs, `http(s)://`
 * URLs. Made by {@link objects}.
 *
 * @example
 * ```ts
 * import { objects, ObjectsInput } from "./mod.ts";
 * const input: ObjectsInput = objects("s3://bucket/key.csv");
 * console.assert(input instanceof ObjectsInput && input.urls[0] === "s3://bucket/key.csv");
 * ```
 */
export class ObjectsInput {
  /** The sources, local paths turned into absolute `file:` URLs. */
  readonly urls: readonly string[];

  /** @internal use {@link objects}. */
  constructor(urls: readonly string[]) {
    this.urls = Object.freeze([...urls]);
  }
}

function normalize(url: unknown, index: number): string {
  if (typeof url !== "string") throw new TypeError(`objects: argument ${index} must be a URL or path string, got ${url === null ? "null" : typeof url}`);
  if (url === "") throw new TypeError(`objects: argument ${index} is an empty string`);
  if (!URL_SCHEME.test(url)) return nodeUrl().pathToFileURL(nodePath().resolve(url)).href + (/[\\/]$/.test(url) ? "/" : "");
  if (storageScheme(url) === undefined) {
    throw new TypeError(`objects: unsupported URL scheme in ${JSON.stringify(url)}: expected a path, file:, s3:// or http(s)://`);
  }
  return url;
}

/**
 * Marks data to partition: local paths or `file:` URLs (a folder means every
 * file under it), `s3://bucket/key`, `s3://bucket/prefix/` (every object
 * under the prefix; a URL ending in `/` or naming only the bucket is a
 * prefix) and `http(s)://` URLs (read with Range requests). Each object is
 * cut into byte ranges by `partitionObjects` and the futures API.
 *
 * @example
 * ```ts
 * import { objects, isObjectsInput } from "./mod.ts";
 * const input = objects("s3://logs/2024/", "https://example.com/data.csv");
 * console.assert(isObjectsInput(input) && input.urls.length === 2);
 * ```
 * @throws {TypeError} without arguments, or for an argument that is not a
 *   non-empty string or has an unsupported URL scheme (named in the message).
 */
export function objects(...urls: string[]): ObjectsInput {
  if (urls.length === 0) throw new TypeError("objects: expected at least one URL or path");
  return new ObjectsInput(urls.map(normalize));
}

/**
 * Whether `x` was made by {@link objects}.
 *
 * @example
 * ```ts
 * import { objects, isObjectsInput } from "./mod.ts";
 * console.assert(isObjectsInput(objects("/tmp/data.txt")) && !isObjectsInput(["/tmp/data.txt"]));
 * ```
 */
export function isObjectsInput(x: unknown): x is ObjectsInput {
  return x instanceof ObjectsInput;
}
