/**
 * One execution environment of the Invoke-API test server: a Node child
 * process that loads a function's handler once and runs one invocation at
 * a time, reused while warm — as a Lambda execution environment does.
 *
 * The child speaks JSON lines on its stdin/stdout; the handler's own
 * writes to stdout go to stderr (the function's log), so they cannot be
 * mistaken for a reply.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { isDeno } from "../runtime/worker_host.ts";

/** The error body of a failed invocation, as the Node runtimes write it. */
export interface LambdaErrorBody {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** How an invocation ended: the handler's JSON result, or an error body. */
export type SandboxResult =
  | { readonly payload: string }
  | { readonly error: LambdaErrorBody };

/** What the handler's `context` is built from. */
export interface SandboxContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
}

// The child: loads `handler` from the task root at start (the Init phase,
// answered by an "init" line), then answers each request line with one
// reply line. Plain
// JavaScript: it runs on Node from a file the server writes.
const BOOTSTRAP = `
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [taskRoot, handlerSpec] = process.argv.slice(2);
const reply = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);
const send = (m) => reply(JSON.stringify(m) + "\\n");
const named = (name, message) => Object.assign(new Error(message), { name });
function errorBody(e) {
  if (e instanceof Error) return { errorType: e.name, errorMessage: e.message, trace: String(e.stack ?? "").split("\\n") };
  return { errorType: typeof e, errorMessage: String(e), trace: [] };
}
async function load() {
  const dot = handlerSpec.lastIndexOf(".");
  const file = handlerSpec.slice(0, dot), name = handlerSpec.slice(dot + 1);
  const path = [".mjs", ".js", ".cjs"].map((e) => join(taskRoot, file + e)).find((p) => existsSync(p));
  if (!path) throw named("Runtime.ImportModuleError", "Error: Cannot find module '" + file + "'");
  const mod = await import(pathToFileURL(path).href);
  const fn = mod[name] ?? mod.default?.[name];
  if (typeof fn !== "function") throw named("Runtime.HandlerNotFound", handlerSpec + " is undefined or not exported");
  return fn;
}
let current;
const fatal = (type) => (e) => {
  if (current !== undefined) send({ id: current, error: type ? { ...errorBody(e), errorType: type } : errorBody(e) });
  process.exit(129);
};
process.on("uncaughtException", fatal());
process.on("unhandledRejection", fatal("Runtime.UnhandledPromiseRejection"));
let handler;
try {
  handler = await load();
  send({ id: "init" });
} catch (e) {
  send({ id: "init", error: errorBody(e) });
  process.exit(129);
}
createInterface({ input: process.stdin }).on("line", async (line) => {
  const req = JSON.parse(line);
  current = req.id;
  try {
    const event = JSON.parse(req.event);
    const context = { ...req.context, callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => Math.max(0, req.deadline - Date.now()) };
    const result = handler.length >= 3
      ? await new Promise((resolve, reject) => {
        const r = handler(event, context, (err, value) => (err ? reject(err) : resolve(value)));
        if (r && typeof r.then === "function") r.then(resolve, reject);
      })
      : await handler(event, context);
    send({ id: req.id, payload: JSON.stringify(result === undefined ? null : result) });
  } catch (e) {
    send({ id: req.id, error: errorBody(e) });
  }
  current = undefined;
}).on("close", () => process.exit(0));
`;

/** Lambda's limit on the Init phase (loading the handler). */
const INIT_TIMEOUT_MS = 10_000;

/** Writes the child's bootstrap into `dir` and returns its path. */
export function writeBootstrap(dir: string): string {
  const path = join(dir, "bootstrap.mjs");
  writeFileSync(path, BOOTSTRAP);
  return path;
}

/** What a new environment runs. */
export interface SandboxSpec {
  /** The bootstrap written by {@link writeBootstrap}. */
  bootstrap: string;
  /** The folder the function's zip was unpacked into. */
  taskRoot: string;
  /** `file.export`, as the function's `Handler`. */
  handler: string;
  /** The whole environment of the child (the function's variables and the runtime's). */
  env: Record<string, string>;
  /** Pipe the function's log (stderr and stdout) to this process's stderr. */
  showLogs: boolean;
}

/** One Node child running one function version's handler, one invocation at a time. */
export class Sandbox {
  /** Whether it has run an invocation (its cold start is behind it). */
  warm = false;
  /** Whether an invocation is running. */
  busy = false;
  readonly #child: ChildProcess;
  #gone = false;
  #pending?: { id: number; settle: (r: SandboxResult) => void };
  #nextId = 0;
  /** Settles when the handler is loaded: `undefined`, or the init error. */
  readonly #init: Promise<LambdaErrorBody | undefined>;
  #initDone!: (error: LambdaErrorBody | undefined) => void;
  /** Whether `#init` has settled, and with what: read without awaiting on each invocation. */
  #initSettled = false;
  #initResult: LambdaErrorBody | undefined;

  /** Starts the child; it loads the handler on its first invocation. */
  constructor(spec: SandboxSpec) {
    this.#init = new Promise<LambdaErrorBody | undefined>((resolve) => this.#initDone = resolve).then((error) => {
      this.#initSettled = true;
      this.#initResult = error;
      return error;
    });
    this.#child = spawn(isDeno ? "node" : process.execPath, [spec.bootstrap, spec.taskRoot, spec.handler], {
      cwd: spec.taskRoot,
      env: spec.env,
      stdio: ["pipe", "pipe", spec.showLogs ? "inherit" : "ignore"],
    });
    createInterface({ input: this.#child.stdout! }).on("line", (line) => {
      let msg: { id: number | "init"; payload?: string; error?: LambdaErrorBody };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.id === "init") return this.#initDone(msg.error);
      if (this.#pending?.id !== msg.id) return;
      const settle = this.#pending.settle;
      this.#pending = undefined;
      settle(msg.error ? { error: msg.error } : { payload: msg.payload ?? "null" });
    });
    this.#child.stdin!.on("error", () => {}); // a dead child's pipe: its exit handler reports it
    this.#child.once("exit", (code, signal) => {
      this.#gone = true;
      const error = {
        errorType: "Runtime.ExitError",
        errorMessage: `Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`,
      };
      this.#initDone(error);
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.settle({ error });
    });
  }

  /** Settles when the handler has loaded: `undefined`, or the error that stopped it. */
  get initialized(): Promise<LambdaErrorBody | undefined> {
    return this.#init;
  }

  /** Whether the child has exited (or was killed): it takes no more invocations. */
  get gone(): boolean {
    return this.#gone;
  }

  /**
   * Runs one invocation: `event` (JSON text) with `context`, killed at
   * `timeoutMs` with the runtime's timeout error. A child that dies on the
   * way answers `Runtime.ExitError`; either way the environment is gone.
   */
  async invoke(event: string, context: SandboxContext, timeoutMs: number): Promise<SandboxResult> {
    // Init has its own 10 s limit on Lambda, outside the function's timeout.
    // Once it has passed, warm invocations skip the race (and its timer).
    let initError = this.#initResult;
    if (initError === undefined && !this.#initSettled) {
      let initTimer: ReturnType<typeof setTimeout> | undefined;
      initError = await Promise.race([
        this.#init,
        new Promise<LambdaErrorBody>((resolve) => {
          initTimer = setTimeout(() => resolve({ errorType: "Runtime.InitError", errorMessage: "Init phase took longer than 10 s" }), INIT_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(initTimer);
    }
    if (initError) {
      this.kill();
      return { error: initError };
    }
    if (this.#gone) {
      return { error: { errorType: "Runtime.ExitError", errorMessage: "Runtime exited before the invocation" } };
    }
    const id = this.#nextId++;
    const deadline = Date.now() + timeoutMs;
    return new Promise<SandboxResult>((resolve) => {
      const timer = setTimeout(() => {
        if (this.#pending?.id !== id) return;
        this.#pending = undefined;
        this.kill();
        resolve({
          error: {
            errorType: "Sandbox.Timedout",
            errorMessage: `RequestId: ${context.awsRequestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
          },
        });
      }, timeoutMs);
      this.#pending = {
        id,
        settle: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.#child.stdin!.write(JSON.stringify({ id, event, context, deadline }) + "\n");
    });
  }

  /** Kills the child now (a pending invocation answers `Runtime.ExitError`). */
  kill(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#child.kill("SIGKILL");
  }

  /** Ends the child and resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.#child.kill("SIGKILL");
    await exited;
  }
}
