/**
 * The `s3:` storage backend over `@aws-sdk/client-s3`, loaded on first use.
 *
 * @module
 */
import type { ListEntry, ObjectInfo, StorageBackend } from "./storage_backend.ts";
import { SkypoolError } from "../errors.ts";
import { ObjectNotFoundError } from "./storage_errors.ts";
import type { S3Options } from "./s3_options.ts";
import { cjsExports } from "../task/cjs_exports.ts";

type Sdk = typeof import("npm:@aws-sdk/client-s3@~3.1178.0");
type Client = InstanceType<Sdk["S3Client"]>;

let sdk: Promise<Sdk> | undefined;

function loadSdk(): Promise<Sdk> {
  return sdk ??= import("npm:@aws-sdk/client-s3@~3.1178.0").then((m) => cjsExports(m, "S3Client"));
}

/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}

/** The client settings: the given options over the environment's endpoint and region. */
export function resolveS3Options(options: S3Options): S3Options {
  const endpoint = options.endpoint ?? env("AWS_ENDPOINT_URL_S3");
  return {
    ...options,
    endpoint,
    region: options.region ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1",
    // S3-compatible servers rarely serve virtual-host buckets (bucket.host).
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
  };
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** Objects in one bucket under an optional key prefix. */
export class S3Backend implements StorageBackend {
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #options: S3Options;
  #client?: Promise<Client>;

  /**
   * @param bucket the bucket name.
   * @param prefix a key prefix ending in `/`, or `""`.
   * @param options client settings (see {@link resolveS3Options}).
   */
  constructor(bucket: string, prefix: string, options: S3Options) {
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.#options = resolveS3Options(options);
  }

  objectUrl(key: string): string {
    return `s3://${this.#bucket}/${this.#prefix}${key}`;
  }

  #connect(): Promise<Client> {
    return this.#client ??= loadSdk().then(({ S3Client }) => new S3Client(this.#options as import("npm:@aws-sdk/client-s3@~3.1178.0").S3ClientConfig));
  }

  /** Runs one command; a 404 becomes an error saying whether the bucket or the object is missing. */
  async #send<T>(key: string, make: (s: Sdk) => object): Promise<T> {
    const [client, s] = await Promise.all([this.#connect(), loadSdk()]);
    try {
      return await client.send(make(s) as never) as T;
    } catch (err) {
      if (status(err) !== 404 && (err as Error)?.name !== "NoSuchBucket") throw err;
      throw await this.#notFound(key, err);
    }
  }

  async #notFound(key: string, err: unknown): Promise<ObjectNotFoundError> {
    const bucketUrl = `s3://${this.#bucket}`;
    let bucketMissing = (err as Error)?.name === "NoSuchBucket";
    if (!bucketMissing) {
      // A HEAD on a missing object and on a missing bucket both answer a bare 404.
      const [client, s] = await Promise.all([this.#connect(), loadSdk()]);
      try {
        await client.send(new s.HeadBucketCommand({ Bucket: this.#bucket }));
      } catch (headErr) {
        bucketMissing = status(headErr) === 404;
      }
    }
    return bucketMissing
      ? new ObjectNotFoundError(bucketUrl, `bucket does not exist: ${bucketUrl} (endpoint ${this.#options.endpoint ?? "AWS"})`, { cause: err })
      : new ObjectNotFoundError(this.objectUrl(key), `no object at ${this.objectUrl(key)}`, { cause: err });
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await this.#send(key, (s) => new s.PutObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key, Body: data }));
  }

  async get(key: string, start: number, end: number | undefined): Promise<Uint8Array> {
    if (end !== undefined && end <= start) {
      await this.head(key); // still report a missing object
      return new Uint8Array(0);
    }
    const range = `bytes=${start}-${end === undefined ? "" : end - 1}`;
    try {
      const res = await this.#send<{ Body?: { transformToByteArray(): Promise<Uint8Array> } }>(
        key,
        (s) => new s.GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key, Range: range }),
      );
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
    } catch (err) {
      // A range starting at or past the end: nothing to read.
      if (status(err) === 416) return new Uint8Array(0);
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo> {
    const res = await this.#send<{ ContentLength?: number; ETag?: string }>(
      key,
      (s) => new s.HeadObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
    );
    return { size: res.ContentLength ?? 0, etag: res.ETag ?? "" };
  }

  async *list(prefix: string): AsyncIterable<ListEntry> {
    let token: string | undefined;
    do {
      const page = await this.#send<{ Contents?: { Key?: string; Size?: number }[]; NextContinuationToken?: string; IsTruncated?: boolean }>(
        prefix,
        (s) => new s.ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix + prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) yield { key: o.Key.slice(this.#prefix.length), size: o.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) (await client).destroy();
  }

  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const res = await this.#send<{ Errors?: { Key?: string; Message?: string }[] }>(batch[0], (s) =>
        new s.DeleteObjectsCommand({
          Bucket: this.#bucket,
          Delete: { Objects: batch.map((k) => ({ Key: this.#prefix + k })), Quiet: true },
        }));
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        throw new SkypoolError(`could not delete ${failed.length} object(s) from s3://${this.#bucket}: ` +
          failed.slice(0, 3).map((e) => `${e.Key}: ${e.Message}`).join("; "));
      }
    }
  }
}
