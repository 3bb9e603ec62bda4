/**
 * Sealed envelopes: how batches travel to remote workers and results come
 * back. Every envelope is binary and versioned:
 *
 * ```
 * "SKYP" | version (1 byte) | type (1 byte) | HMAC-SHA256 (32 bytes, not in refusals) | body
 * body = header length (u32 BE) | header (JSON) | parts (bytes, lengths in header.parts)
 * ```
 *
 * The MAC (under the authkey) covers the magic, version, type and body, and
 * is checked before a byte of the body is read. The header is parsed with
 * `JSON.parse`, which builds plain data only: no handle, no function, no
 * class is constructed from the envelope. The task payload stays bytes;
 * the worker decodes it with the codec only after the MAC verified.
 *
 * A worker that cannot verify a batch cannot sign its refusal (it may hold
 * another key), so refusals are unsigned. The caller takes an unsigned
 * refusal as the failure of that batch (a denial gives a forger nothing),
 * and never accepts an unsigned success.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { config } from "../config.ts";
import { SkypoolError } from "../errors.ts";
import { AUTHKEY_ENV, authkey } from "../task/authkey.ts";
import type { FunctionRef } from "../task/function_loader.ts";
import { nodeCrypto } from "../runtime/builtins.ts";
import { nodeBuffer } from "../runtime/node_buffer.ts";

const MAGIC = [0x53, 0x4b, 0x59, 0x50]; // "SKYP"
const VERSION = 1;
const PREFIX = 6;
const MAC_BYTES = 32;
/** Every MAC input starts with this, so an envelope MAC is no other skypool MAC. */
const DOMAIN = "skypool-envelope-v1\0";
/** The longest refusal message kept (it comes from an unverified peer). */
const MAX_REFUSAL_MESSAGE = 1000;

const Type = { BATCH: 1, RESULT: 2, REFUSAL: 3 } as const;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A batch as the worker needs it: everything travels in it. */
export interface BatchEnvelope {
  /** Random id ({@link newBatchId}); the result must carry the same. */
  readonly batchId: string;
  /** When it was sealed (ms since the epoch, the caller's clock). */
  readonly createdAt: number;
  /** A worker refuses it after this (ms since the epoch): a replay later runs nothing. */
  readonly expiresAt: number;
  /** The function (a source, a module URL, or a package-relative `skypool:` ref). */
  readonly fn: FunctionRef;
  /** The encoded tasks, as `TaskBatch.payload`. */
  readonly payload: Uint8Array;
  /** Task i is `fn(items[i])` rather than `fn(...argLists[i])`. */
  readonly each: boolean;
  /** Units of work in the payload. */
  readonly count: number;
  /** The pool's initializer, run once per worker process. */
  readonly setup?: { readonly fn: FunctionRef; readonly args: Uint8Array };
  /** Variables set in the worker's environment while the batch runs (`ENV_VARS`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Where worker output goes (`STREAM_STDOUT`): opaque here, carried through. */
  readonly stdout?: unknown;
  /** The caller gives up at this time (ms since the epoch). */
  readonly deadline?: number;
  /** Bundled modules by hash, for a worker that lacks them. */
  readonly bundles?: Readonly<Record<string, string>>;
  /**
   * Where the worker puts its sealed answer when it is too large for the
   * channel's message (a `file:` or `s3://` object URL). Signed with the
   * rest, so that no one without the key can send a worker's answers
   * elsewhere.
   */
  readonly answerUrl?: string;
}

/** What a batch may be sealed from: ids and times are made when not given. */
export type BatchContents = Omit<BatchEnvelope, "batchId" | "createdAt" | "expiresAt"> & {
  batchId?: string;
  createdAt?: number;
  expiresAt?: number;
};

/**
 * How a remote batch ended: the worker core's statuses; `need-bundle`
 * (the worker lacks the bundles named in `hashes`: send them inline);
 * `init-failed` (the initializer threw; `payload` is the thrown value).
 */
export type ResultStatus = "ok" | "threw" | "unserializable" | "need-bundle" | "init-failed";

/** A worker's answer to a batch it ran. */
export interface ResultEnvelope {
  readonly batchId: string;
  readonly status: ResultStatus;
  /** `encode(results)` (ok) or `encode(thrown)` (threw, init-failed); empty otherwise. */
  readonly payload: Uint8Array;
  /** Why a result could not be encoded (unserializable). */
  readonly message?: string;
  /** The bundles the worker lacks (need-bundle). */
  readonly hashes?: readonly string[];
  /** Which worker ran it (`host/pid`). */
  readonly workerId: string;
  /** When the worker took it and when it finished (ms since the epoch, the worker's clock). */
  readonly workerStart: number;
  readonly workerEnd: number;
  /** Captured output (`STREAM_STDOUT`): opaque here, carried through. */
  readonly stdout?: unknown;
}

/** What came back for a batch: a verified result, or an (unsigned) refusal. */
export type Answer =
  | { readonly kind: "result"; readonly result: ResultEnvelope }
  | { readonly kind: "refusal"; readonly message: string; readonly batchId?: string };

/**
 * The authkey a remote transport or worker uses, which must be configured
 * explicitly: a random per-program key (the local default) would make
 * every worker refuse every batch.
 *
 * @param who names the transport or worker in the message (`"http"`, `"skypool serve"`).
 * @example
 * ```ts
 * import { requireRemoteAuthkey } from "./src/remote/envelope.ts";
 * import { config } from "./src/config.ts";
 * config.set({ authkey: "a-doc-key-of-16-chars" });
 * console.assert(requireRemoteAuthkey("http") === "a-doc-key-of-16-chars");
 * config.reset();
 * ```
 * @throws {SkypoolError} when no authkey is configured (`config.authkey` /
 *   `SKYPOOL_AUTHKEY`); the message says how to set one.
 * @throws {RangeError} when `SKYPOOL_AUTHKEY` holds fewer than 16 characters.
 */
export function requireRemoteAuthkey(who: string): string {
  const key = config.get().authkey;
  if (key === undefined) {
    throw new SkypoolError(
      `${who} needs an explicit authkey to sign batches and results: set the environment variable ${AUTHKEY_ENV} ` +
        `(at least 16 characters, e.g. the output of \`openssl rand -base64 32\`) to the same value on the caller ` +
        `and on every worker, or call config.set({ authkey }) in both`,
    );
  }
  return key;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function macOf(key: string, prefix: Uint8Array, body: Uint8Array): Buffer {
  return nodeCrypto().createHmac("sha256", nodeBuffer().from(key, "utf8")).update(DOMAIN).update(prefix).update(body).digest();
}

/** Header JSON + parts → body bytes. */
function bodyOf(header: Record<string, unknown>, parts: Uint8Array[]): Uint8Array {
  const json = utf8.encode(JSON.stringify({ ...header, parts: parts.map((p) => p.length) }));
  let size = 4 + json.length;
  for (const p of parts) size += p.length;
  const body = new Uint8Array(size);
  new DataView(body.buffer).setUint32(0, json.length);
  body.set(json, 4);
  let at = 4 + json.length;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return body;
}

function envelope(type: number, body: Uint8Array, key: string | undefined): Uint8Array {
  const head = new Uint8Array([...MAGIC, VERSION, type]);
  const out = new Uint8Array(PREFIX + (key === undefined ? 0 : MAC_BYTES) + body.length);
  out.set(head, 0);
  if (key !== undefined) out.set(macOf(key, head, body), PREFIX);
  out.set(body, out.length - body.length);
  return out;
}

/** Why bytes are not an envelope; the reason becomes a refusal or a transport error. */
function bad(reason: string): SkypoolError {
  return new SkypoolError(reason);
}

/** The type of an envelope whose magic and version are right. */
function typeOf(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array) || bytes.length < PREFIX || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw bad("the bytes are not a skypool envelope (wrong magic or too short)");
  }
  if (bytes[4] !== VERSION) throw bad(`unsupported envelope version ${bytes[4]} (this skypool reads version ${VERSION})`);
  return bytes[5];
}

/** The body of a signed envelope, after its MAC verified. */
function verifiedBody(bytes: Uint8Array, key: string, what: string): Uint8Array {
  if (bytes.length < PREFIX + MAC_BYTES) throw bad(`${what} is truncated`);
  const body = bytes.subarray(PREFIX + MAC_BYTES);
  const expected = macOf(key, bytes.subarray(0, PREFIX), body);
  if (!nodeCrypto().timingSafeEqual(expected, bytes.subarray(PREFIX, PREFIX + MAC_BYTES))) {
    throw bad(
      `${what}'s authkey signature does not match: it was changed on the way, or signed with another ${AUTHKEY_ENV} ` +
        `(the caller and every worker must share one)`,
    );
  }
  return body;
}

/** Header and parts of a body. */
function readBody(body: Uint8Array, what: string): { header: Record<string, unknown>; parts: Uint8Array[] } {
  if (body.length < 4) throw bad(`${what} has no header`);
  const length = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0);
  if (length > body.length - 4) throw bad(`${what}'s header is longer than the envelope`);
  let header: unknown;
  try {
    header = JSON.parse(fromUtf8.decode(body.subarray(4, 4 + length)));
  } catch {
    throw bad(`${what}'s header is not valid JSON`);
  }
  if (!isRecord(header)) throw bad(`${what}'s header is not an object`);
  const lengths = header.parts;
  if (!Array.isArray(lengths) || !lengths.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw bad(`${what}'s header has no valid part lengths`);
  }
  let at = 4 + length;
  const parts: Uint8Array[] = [];
  for (const n of lengths as number[]) {
    if (at + n > body.length) throw bad(`${what}'s parts are longer than the envelope`);
    parts.push(body.subarray(at, at + n));
    at += n;
  }
  if (at !== body.length) throw bad(`${what} has ${body.length - at} bytes after its parts`);
  return { header, parts };
}

function isFunctionRef(v: unknown): v is FunctionRef {
  return isRecord(v) && typeof v.id === "string" && (v.kind === "source" || v.kind === "module" || v.kind === "bundle");
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return isRecord(v) && Object.values(v).every((s) => typeof s === "string");
}

/**
 * A fresh random batch id (a random UUID: 122 random bits, drawn from
 * Node's entropy cache, several times cheaper per batch than `randomBytes`).
 *
 * @example
 * ```ts
 * import { newBatchId } from "./src/remote/envelope.ts";
 * console.assert(newBatchId().length === 36 && newBatchId() !== newBatchId());
 * ```
 */
export function newBatchId(): string {
  return nodeCrypto().randomUUID();
}

/**
 * Seals a batch under the authkey. `expiresAt` defaults to `createdAt` +
 * `config.redisExpiryTime` seconds, `batchId` to {@link newBatchId}.
 *
 * @example
 * ```ts
 * import { openBatch, sealBatch } from "./src/remote/envelope.ts";
 * const fn = { kind: "source" as const, id: "s:doc", source: "(x) => x" };
 * const key = "a-doc-key-of-16-chars";
 * const { bytes, batchId } = sealBatch({ fn, payload: new Uint8Array([1, 2]), each: true, count: 2 }, key);
 * console.assert(openBatch(bytes, key).batchId === batchId);
 * ```
 * @throws {RangeError} as {@link authkey} when no key is given and `SKYPOOL_AUTHKEY` is too short.
 */
export function sealBatch(contents: BatchContents, key: string = authkey()): { bytes: Uint8Array; batchId: string; expiresAt: number } {
  const createdAt = contents.createdAt ?? Date.now();
  const expiresAt = contents.expiresAt ?? createdAt + config.get().redisExpiryTime * 1000;
  const batchId = contents.batchId ?? newBatchId();
  const { payload, setup, ...rest } = contents;
  const header = {
    ...rest,
    kind: "batch",
    batchId,
    createdAt,
    expiresAt,
    ...(setup ? { setup: { fn: setup.fn } } : {}),
  };
  const parts = setup ? [payload, setup.args] : [payload];
  return { bytes: envelope(Type.BATCH, bodyOf(header, parts), key), batchId, expiresAt };
}

/**
 * Opens a sealed batch: checks magic, version and MAC, then its expiry,
 * then the shape of its header. Nothing in it is decoded beyond plain JSON.
 *
 * @param now the worker's clock (ms since the epoch).
 * @example
 * ```ts
 * import { openBatch, sealBatch } from "./src/remote/envelope.ts";
 * const fn = { kind: "source" as const, id: "s:doc", source: "(x) => x" };
 * const { bytes } = sealBatch({ fn, payload: new Uint8Array(0), each: true, count: 0, createdAt: 0, expiresAt: 1 }, "a-doc-key-of-16-chars");
 * try {
 *   openBatch(bytes, "a-doc-key-of-16-chars");
 * } catch (err) {
 *   console.assert(/expired/.test((err as Error).message));
 * }
 * ```
 * @throws {SkypoolError} saying why the batch is refused: not an envelope,
 *   another version, not a batch, a MAC that does not verify (tampered or
 *   another key), expired, or a malformed header.
 */
export function openBatch(bytes: Uint8Array, key: string = authkey(), now: number = Date.now()): BatchEnvelope {
  if (typeOf(bytes) !== Type.BATCH) throw bad("the envelope is not a batch");
  const { header: h, parts } = readBody(verifiedBody(bytes, key, "the batch"), "the batch");
  if (typeof h.batchId !== "string" || typeof h.createdAt !== "number" || typeof h.expiresAt !== "number") {
    throw bad("the batch's header lacks its id or times");
  }
  if (!(now <= h.expiresAt)) {
    throw bad(
      `the batch expired ${Math.round((now - h.expiresAt) / 1000)} s ago (sealed at ${new Date(h.createdAt).toISOString()}, ` +
        `valid until ${new Date(h.expiresAt).toISOString()}): a late delivery or a replay; the caller's and worker's clocks must agree`,
    );
  }
  const setup = h.setup;
  if (
    !isFunctionRef(h.fn) || typeof h.each !== "boolean" || !Number.isSafeInteger(h.count) ||
    parts.length !== (setup === undefined ? 1 : 2) ||
    (setup !== undefined && !(isRecord(setup) && isFunctionRef(setup.fn))) ||
    (h.env !== undefined && !isStringRecord(h.env)) ||
    (h.bundles !== undefined && !isStringRecord(h.bundles)) ||
    (h.deadline !== undefined && typeof h.deadline !== "number") ||
    (h.answerUrl !== undefined && typeof h.answerUrl !== "string")
  ) {
    throw bad("the batch's header is malformed");
  }
  return {
    batchId: h.batchId,
    createdAt: h.createdAt,
    expiresAt: h.expiresAt,
    fn: h.fn,
    payload: parts[0],
    each: h.each,
    count: h.count as number,
    ...(setup !== undefined ? { setup: { fn: (setup as { fn: FunctionRef }).fn, args: parts[1] } } : {}),
    ...(h.env !== undefined ? { env: h.env } : {}),
    ...("stdout" in h ? { stdout: h.stdout } : {}),
    ...(h.deadline !== undefined ? { deadline: h.deadline } : {}),
    ...(h.bundles !== undefined ? { bundles: h.bundles } : {}),
    ...(h.answerUrl !== undefined ? { answerUrl: h.answerUrl as string } : {}),
  };
}

/**
 * Seals a worker's result under the authkey.
 *
 * @example
 * ```ts
 * import { openAnswer, sealResult } from "./src/remote/envelope.ts";
 * const key = "a-doc-key-of-16-chars";
 * const bytes = sealResult({ batchId: "b1", status: "ok", payload: new Uint8Array([7]), workerId: "w", workerStart: 1, workerEnd: 2 }, key);
 * const answer = openAnswer(bytes, "b1", key);
 * console.assert(answer.kind === "result" && answer.result.payload[0] === 7);
 * ```
 * @throws {RangeError} as {@link authkey} when no key is given and `SKYPOOL_AUTHKEY` is too short.
 */
export function sealResult(result: ResultEnvelope, key: string = authkey()): Uint8Array {
  const { payload, ...header } = result;
  return envelope(Type.RESULT, bodyOf({ ...header, kind: "result" }, [payload]), key);
}

/**
 * An unsigned refusal: the worker ran nothing of the batch.
 *
 * @example
 * ```ts
 * import { openAnswer, sealRefusal } from "./src/remote/envelope.ts";
 * const answer = openAnswer(sealRefusal("expired"), "b1");
 * console.assert(answer.kind === "refusal" && answer.message === "expired");
 * ```
 */
export function sealRefusal(message: string, batchId?: string): Uint8Array {
  return envelope(Type.REFUSAL, bodyOf({ kind: "refusal", message, ...(batchId !== undefined ? { batchId } : {}) }, []), undefined);
}

/**
 * Whether `bytes` look like an envelope (magic and version): a peer's
 * answer worth opening, as against an error page from something in between.
 *
 * @example
 * ```ts
 * import { isEnvelope, isRefusal, sealRefusal } from "./src/remote/envelope.ts";
 * console.assert(isEnvelope(sealRefusal("no")) && isRefusal(sealRefusal("no")));
 * console.assert(!isEnvelope(new TextEncoder().encode("<html>")));
 * ```
 */
export function isEnvelope(bytes: Uint8Array): boolean {
  return bytes.length >= PREFIX && MAGIC.every((b, i) => bytes[i] === b) && bytes[4] === VERSION;
}

/** Whether `bytes` are a refusal (see {@link isEnvelope}). */
export function isRefusal(bytes: Uint8Array): boolean {
  return isEnvelope(bytes) && bytes[5] === Type.REFUSAL;
}

const STATUSES: readonly string[] = ["ok", "threw", "unserializable", "need-bundle", "init-failed"];

/**
 * Opens what a worker answered to batch `batchId`: a result whose MAC
 * verifies and whose id matches, or a refusal (unsigned, so taken only as
 * a failure).
 *
 * @example
 * ```ts
 * import { openAnswer, sealResult } from "./src/remote/envelope.ts";
 * const bytes = sealResult({ batchId: "b1", status: "ok", payload: new Uint8Array(0), workerId: "w", workerStart: 1, workerEnd: 2 }, "a-doc-key-of-16-chars");
 * try {
 *   openAnswer(bytes, "b2", "a-doc-key-of-16-chars");
 * } catch (err) {
 *   console.assert(/another batch/.test((err as Error).message));
 * }
 * ```
 * @throws {SkypoolError} for bytes that are not an answer, a result whose
 *   MAC does not verify, or a result of another batch.
 */
export function openAnswer(bytes: Uint8Array, batchId: string, key: string = authkey()): Answer {
  const type = typeOf(bytes);
  if (type === Type.REFUSAL) {
    const { header } = readBody(bytes.subarray(PREFIX), "the refusal");
    const message = typeof header.message === "string" ? header.message.slice(0, MAX_REFUSAL_MESSAGE) : "(no reason given)";
    return { kind: "refusal", message, ...(typeof header.batchId === "string" ? { batchId: header.batchId } : {}) };
  }
  if (type !== Type.RESULT) throw bad("the answer is not a result");
  const { header: h, parts } = readBody(verifiedBody(bytes, key, "the result"), "the result");
  if (h.batchId !== batchId) throw bad(`the result is for another batch (${JSON.stringify(h.batchId)}, not ${JSON.stringify(batchId)})`);
  if (
    typeof h.status !== "string" || !STATUSES.includes(h.status) || parts.length !== 1 ||
    typeof h.workerId !== "string" || typeof h.workerStart !== "number" || typeof h.workerEnd !== "number" ||
    (h.message !== undefined && typeof h.message !== "string") ||
    (h.hashes !== undefined && !(Array.isArray(h.hashes) && h.hashes.every((x) => typeof x === "string")))
  ) {
    throw bad("the result's header is malformed");
  }
  return {
    kind: "result",
    result: {
      batchId,
      status: h.status as ResultStatus,
      payload: parts[0],
      workerId: h.workerId,
      workerStart: h.workerStart,
      workerEnd: h.workerEnd,
      ...(h.message !== undefined ? { message: h.message as string } : {}),
      ...(h.hashes !== undefined ? { hashes: h.hashes as string[] } : {}),
      ...("stdout" in h ? { stdout: h.stdout } : {}),
    },
  };
}
