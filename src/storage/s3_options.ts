/**
 * The S3 client settings skypool accepts (config `storage.s3`, or the
 * second argument of `new Storage`). Type-only, so that reading the config
 * does not load the AWS SDK.
 *
 * @module
 */

/**
 * Settings for the S3 client. The named fields are the ones S3-compatible
 * servers (MinIO, Ceph, s3rver…) usually need; any other field is passed to
 * `new S3Client(...)` as is, so every SDK option is reachable.
 *
 * @example
 * ```ts
 * import type { S3Options } from "./mod.ts";
 * const local: S3Options = {
 *   endpoint: "http://127.0.0.1:9000",
 *   forcePathStyle: true,
 *   credentials: { accessKeyId: "minio", secretAccessKey: "minio123" },
 *   requestChecksumCalculation: "WHEN_REQUIRED",
 * };
 * console.assert(local.forcePathStyle === true);
 * ```
 */
export interface S3Options {
  /** Server URL. @default `AWS_ENDPOINT_URL_S3`, else AWS */
  endpoint?: string;
  /** The region. @default `AWS_REGION`, else `us-east-1` */
  region?: string;
  /** Path-style addressing (`host/bucket/key`). @default `true` when an endpoint is set */
  forcePathStyle?: boolean;
  /** Access keys. @default the SDK's credential chain (environment, profile, instance role) */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** `"WHEN_REQUIRED"` for servers that reject the SDK's default streaming checksums. */
  requestChecksumCalculation?: "WHEN_SUPPORTED" | "WHEN_REQUIRED";
  /** `"WHEN_REQUIRED"` to skip checking response checksums. */
  responseChecksumValidation?: "WHEN_SUPPORTED" | "WHEN_REQUIRED";
  /** Any other `S3ClientConfig` field. */
  [option: string]: unknown;
}
