/**
 * Test helper: a private `s3rver` (an S3-compatible server from npm) on a
 * free port, with its data in a temp folder, and the client settings that
 * reach it.
 *
 * s3rver runs in a child `node --openssl-legacy-provider` process (under
 * either runtime): its signature checks on paginated listings use a digest
 * that Node 17+ only provides with the legacy OpenSSL provider.
 *
 * ```ts
 * const s3 = await startS3Server(["data"]);
 * t.after(() => s3.stop());
 * const store = new Storage("s3://data", { s3: s3.options });
 * ```
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { S3Options } from "../../src/storage/s3_options.ts";
import { freePort } from "./redis_server.ts";

/** A running test server. */
export interface TestS3Server {
  /** `http://127.0.0.1:{port}`. */
  readonly endpoint: string;
  /** Client settings for this server (its fixed credentials, path style, no streaming checksums). */
  readonly options: S3Options;
  /** Stops the server and removes its data (idempotent). */
  stop(): Promise<void>;
}

/** Starts s3rver with the given buckets created. */
export async function startS3Server(buckets: string[]): Promise<TestS3Server> {
  const dir = await mkdtemp(join(tmpdir(), "skypool-s3rver-"));
  const port = await freePort();
  const bin = join(process.cwd(), "node_modules", "s3rver", "bin", "s3rver.js");
  const args = ["--openssl-legacy-provider", bin, "-d", dir, "-a", "127.0.0.1", "-p", String(port), "-s"];
  for (const b of buckets) args.push("--configure-bucket", b);
  const child = spawn("node", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += String(d)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`s3rver exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(endpoint);
      await res.body?.cancel();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`s3rver did not start on ${endpoint} within 30 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    endpoint,
    options: {
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      requestChecksumCalculation: "WHEN_REQUIRED",
    },
    stop,
  };
}
