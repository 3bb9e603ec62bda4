/**
 * Lambda runtimes — what `skypool runtime build|deploy|update|list|rm`
 * does: a zip whose `index.mjs` exports the skypool Lambda handler (bundled
 * with esbuild, with the user's `--include` modules), deployed as a
 * function tagged `skypool=1`.
 *
 * @module
 */
import { config } from "../config.ts";
import { SkypoolError } from "../errors.ts";
import { fsPromises, nodePath, nodeUrl } from "../runtime/builtins.ts";
import { bareOfNpm } from "../task/bundle.ts";
import { checkOptions } from "../validate.ts";
import { describeAwsError, type LambdaClient, type LambdaClientOptions, loadLambdaSdk, makeLambdaClient } from "./lambda_client.ts";

/** The tag that marks functions deployed by skypool (`list` finds them by it). */
export const RUNTIME_TAG = "skypool";

/** What goes into a runtime's zip. */
export interface RuntimeBuildOptions {
  /**
   * Modules bundled into the runtime as well. A path (`./setup.ts`) is
   * bundled with its imports and imported when the function starts (before
   * the first batch); a package name (`lodash`) is bundled under
   * `node_modules/<name>`, so that task bundles that leave it external
   * import it by name.
   */
  include?: readonly string[];
  /**
   * The handler module to bundle as the runtime.
   * @default skypool's own Lambda handler (`skypool/lambda`)
   */
  entry?: string | URL;
}

/** Settings of {@link deployRuntime} and {@link updateRuntime}. */
export interface RuntimeDeployOptions extends RuntimeBuildOptions {
  /** The function's name. @default config `lambda.functionName` */
  name?: string;
  /** Memory in MB (128–10 240). @default config `lambda.memory` */
  memory?: number;
  /** Timeout in seconds (1–900). @default config `lambda.timeout` */
  timeout?: number;
  /** The ARN of the function's IAM role. @default config `lambda.role` */
  role?: string;
  /** The instruction set the function runs on. @default "x86_64" */
  architecture?: "x86_64" | "arm64";
  /** The managed Node runtime. @default "nodejs20.x" */
  runtime?: string;
  /** Extra environment variables of the function. */
  env?: Record<string, string>;
  /** Settings of the Lambda client (region, endpoint, credentials…). */
  client?: LambdaClientOptions;
  /** How long to wait for the function to be ready, in seconds. @default 300 */
  waitSeconds?: number;
}

/** A deployed runtime, as `list` shows it. */
export interface RuntimeInfo {
  /** The function's name. */
  name: string;
  /** The function's ARN. */
  arn: string;
  /** The managed runtime (`nodejs20.x`…). */
  runtime: string;
  /** Memory in MB. */
  memory: number;
  /** Timeout in seconds. */
  timeout: number;
  /** Lambda's state of the function (`Pending`, `Active`, `Failed`…). */
  state: string;
  /** When its code or configuration last changed (ISO 8601). */
  lastModified: string;
}

const DEPLOY_OPTIONS = ["name", "memory", "timeout", "role", "architecture", "runtime", "env", "client", "waitSeconds", "include", "entry"];

/** This copy of skypool's root folder and its modules' extension (`.ts` from source, `.js` in the npm build). */
let rootPath: string | undefined;
const root = (): string => rootPath ??= nodeUrl().fileURLToPath(new URL("../../", import.meta.url));
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/**
 * skypool's modules in the runtime: the handler, and the modules a worker
 * imports by URL (`skypool:src/…` refs, the handle kinds). Split into
 * shared chunks, so each module exists once however it is reached.
 */
const SKYPOOL_ENTRIES = ["lambda", "src/executor/call_runner", "src/state/all_handles"];

/** The global `index.mjs` sets to the runtime's folder before skypool loads. */
const ROOT_GLOBAL = "__skypoolRuntimeRoot";

/** Whether `spec` names a file rather than a package. */
function isPath(spec: string): boolean {
  return spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("file:");
}

/** Resolves Deno's `npm:name@range` specifiers from `node_modules`, as bare ones. */
const npmSpecifiers = {
  name: "skypool-npm-specifiers",
  setup(b: import("npm:esbuild@^0.28.2").PluginBuild) {
    b.onResolve({ filter: /^npm:/ }, (args) => {
      const bare = bareOfNpm(args.path);
      if (bare === undefined) return { errors: [{ text: `cannot read the npm specifier ${JSON.stringify(args.path)}` }] };
      return b.resolve(bare, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer });
    });
  },
};

/**
 * skypool's own modules ask `import.meta.url` where they are (to find
 * siblings they import by URL); bundled, they are somewhere else: each
 * asks instead where it sits in the runtime's folder, under the name of
 * its output file.
 */
const ownLocations = {
  name: "skypool-own-locations",
  setup(b: import("npm:esbuild@^0.28.2").PluginBuild) {
    b.onLoad({ filter: /\.(?:ts|js)$/ }, async (args) => {
      if (!args.path.startsWith(root()) || args.path.includes(`${nodePath().sep}node_modules${nodePath().sep}`)) return undefined;
      const source = await fsPromises().readFile(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const rel = nodePath().relative(root(), args.path).split(nodePath().sep).join("/").replace(/\.ts$/, ".js");
      const here = `new URL(${JSON.stringify(rel)}, globalThis.${ROOT_GLOBAL}).href`;
      return { contents: source.replaceAll("import.meta.url", here), loader: args.path.endsWith(".ts") ? "ts" : "js" };
    });
  },
};

const COMMON: import("npm:esbuild@^0.28.2").BuildOptions & { write: false } = {
  bundle: true,
  write: false,
  format: "esm",
  platform: "node",
  target: "node20",
  logLevel: "silent",
  // esbuild's native binary is not shipped; nothing the worker runs needs it.
  external: ["esbuild"],
  // CommonJS packages bundled into ES output call `require` for Node builtins.
  banner: { js: 'import { createRequire as __skypoolCreateRequire } from "node:module";\nconst require = __skypoolCreateRequire(import.meta.url);' },
};

function bundleError(what: string, err: unknown): SkypoolError {
  const first = (err as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors?.[0];
  const where = first?.location ? ` (${first.location.file}:${first.location.line})` : "";
  return new SkypoolError(`cannot bundle ${what}: ${first ? first.text + where : String((err as Error)?.message ?? err)}`, { cause: err });
}

/**
 * One ES module bundling `entry` (a path, or a package resolved from the
 * working folder) and its imports for Node.
 */
async function bundle(entry: string, what: string): Promise<string> {
  const { build } = await import("npm:esbuild@^0.28.2");
  try {
    const result = await build({
      ...COMMON,
      ...(isPath(entry) ? { entryPoints: [entry.startsWith("file:") ? nodeUrl().fileURLToPath(entry) : nodePath().resolve(entry)] } : {
        stdin: { contents: `export * from ${JSON.stringify(entry)};`, resolveDir: process.cwd(), loader: "js" as const },
      }),
      plugins: [npmSpecifiers],
    });
    return result.outputFiles![0].text;
  } catch (err) {
    throw bundleError(what, err);
  }
}

/** skypool's own modules, as files under `skypool/` (entries at their source paths, shared chunks). */
async function bundleSkypool(): Promise<Record<string, string>> {
  const { build } = await import("npm:esbuild@^0.28.2");
  try {
    const result = await build({
      ...COMMON,
      entryPoints: SKYPOOL_ENTRIES.map((e) => nodePath().join(root(), e + EXT)),
      outbase: root(),
      outdir: nodePath().join(root(), ".runtime-out"),
      splitting: true,
      chunkNames: "chunks/[name]-[hash]",
      plugins: [npmSpecifiers, ownLocations],
    });
    const out: Record<string, string> = {};
    for (const f of result.outputFiles!) out[`skypool/${nodePath().relative(nodePath().join(root(), ".runtime-out"), f.path).split(nodePath().sep).join("/")}`] = f.text;
    return out;
  } catch (err) {
    throw bundleError("the skypool Lambda handler", err);
  }
}

/**
 * Builds a runtime's zip: `index.mjs` (exports the handler), skypool's
 * bundled modules under `skypool/`, and the `include`d modules; every
 * file world-readable, as Lambda runs code as another user.
 *
 * @example
 * ```ts
 * import { buildRuntimeZip } from "./src/remote/lambda_runtime.ts";
 * const zip = await buildRuntimeZip({ entry: "./testing.ts" });
 * console.assert(zip[0] === 0x50 && zip[1] === 0x4b); // "PK"
 * ```
 * @throws {SkypoolError} when a module cannot be bundled.
 */
export async function buildRuntimeZip(options: RuntimeBuildOptions = {}): Promise<Uint8Array> {
  const o = checkOptions<RuntimeBuildOptions>("buildRuntimeZip options", options, ["include", "entry"]);
  const include = [...(o.include ?? [])];
  if (include.some((m) => typeof m !== "string" || m === "")) throw new TypeError("include must be an array of module paths or package names");
  const files: Record<string, string> = o.entry === undefined
    ? await bundleSkypool()
    : { "skypool/lambda.js": await bundle(o.entry instanceof URL ? o.entry.href : o.entry, "the Lambda handler") };
  // skypool's modules find their siblings through this (see ownLocations); imports load after it is set.
  const imports: string[] = [`globalThis.${ROOT_GLOBAL} = new URL("./skypool/", import.meta.url).href;`];
  for (const [i, spec] of include.entries()) {
    const code = await bundle(spec, `--include ${spec}`);
    if (isPath(spec)) {
      const file = `include/${i}_${nodePath().basename(spec, nodePath().extname(spec)).replace(/[^\w.-]/g, "_")}.mjs`;
      files[file] = code;
      imports.push(`await import("./${file}");`);
    } else {
      files[`node_modules/${spec}/index.mjs`] = code;
      files[`node_modules/${spec}/package.json`] = JSON.stringify({ name: spec, type: "module", main: "index.mjs", exports: "./index.mjs" });
    }
  }
  files["index.mjs"] = [...imports, 'export const { handler } = await import("./skypool/lambda.js");', ""].join("\n");
  const { strToU8, zipSync } = await import("npm:fflate@^0.8.3");
  // Unix mode 0644 in the external attributes: Lambda runs code as another user.
  const attrs = { os: 3, attrs: 0o100644 << 16 };
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, [strToU8(text), attrs]])), { level: 6 });
}

function requireAuthkeyForDeploy(): string {
  const key = config.get().authkey;
  if (key === undefined) {
    throw new SkypoolError(
      "skypool runtime deploy needs an authkey that the function and its callers share: set SKYPOOL_AUTHKEY (at least 16 characters) or config authkey",
    );
  }
  return key;
}

async function withClient<T>(options: LambdaClientOptions | undefined, name: string, run: (client: LambdaClient, sdk: Awaited<ReturnType<typeof loadLambdaSdk>>) => Promise<T>): Promise<T> {
  const [client, sdk] = await Promise.all([makeLambdaClient(options), loadLambdaSdk()]);
  try {
    return await run(client, sdk);
  } catch (err) {
    throw describeAwsError(err, name);
  } finally {
    client.destroy();
  }
}

function info(c: { FunctionName?: string; FunctionArn?: string; Runtime?: string; MemorySize?: number; Timeout?: number; State?: string; LastModified?: string }): RuntimeInfo {
  return {
    name: c.FunctionName ?? "",
    arn: c.FunctionArn ?? "",
    runtime: String(c.Runtime ?? ""),
    memory: c.MemorySize ?? 0,
    timeout: c.Timeout ?? 0,
    state: String(c.State ?? ""),
    lastModified: c.LastModified ?? "",
  };
}

/** Fails with the waiter's reason when the function did not become ready. */
function checkWaited(result: { state: string; reason?: unknown }, name: string, what: string): void {
  if (result.state !== "SUCCESS") {
    const reason = (result.reason as { Configuration?: { StateReason?: string; LastUpdateStatusReason?: string } } | undefined)?.Configuration;
    throw new SkypoolError(`Lambda function ${JSON.stringify(name)} did not ${what} (${result.state}${reason?.StateReason ?? reason?.LastUpdateStatusReason ? `: ${reason.StateReason ?? reason.LastUpdateStatusReason}` : ""})`);
  }
}

/**
 * Builds the runtime and creates its function: memory, timeout,
 * architecture, `SKYPOOL_AUTHKEY` and `env` in its environment, tagged
 * `skypool=1`; waits until it is `Active`, then turns off Lambda's retries
 * of asynchronous invokes (skypool retries itself).
 *
 * @example
 * ```ts ignore
 * import { deployRuntime } from "./src/remote/lambda_runtime.ts";
 * await deployRuntime({ name: "skypool", role: "arn:aws:iam::123456789012:role/skypool-lambda", memory: 2048 });
 * ```
 * @throws {SkypoolError} without a role, an authkey or AWS credentials, or when the function exists or Lambda refuses a setting.
 */
export async function deployRuntime(options: RuntimeDeployOptions = {}): Promise<RuntimeInfo> {
  const o = checkOptions<RuntimeDeployOptions>("deployRuntime options", options, DEPLOY_OPTIONS);
  const cfg = config.get().lambda;
  const name = o.name ?? cfg.functionName;
  const role = o.role ?? cfg.role;
  if (role === undefined) {
    throw new SkypoolError(
      "skypool runtime deploy needs an IAM role for the function: pass --role arn:aws:iam::<account>:role/<name> or set lambda.role (SKYPOOL_LAMBDA_ROLE); the README says which permissions it needs",
    );
  }
  const authkey = requireAuthkeyForDeploy();
  const zip = await buildRuntimeZip({ include: o.include, entry: o.entry });
  return withClient(o.client, name, async (client, sdk) => {
    await client.send(new sdk.CreateFunctionCommand({
      FunctionName: name,
      Runtime: (o.runtime ?? "nodejs20.x") as never,
      Role: role,
      Handler: "index.handler",
      Code: { ZipFile: zip },
      MemorySize: o.memory ?? cfg.memory,
      Timeout: o.timeout ?? cfg.timeout,
      Architectures: [o.architecture ?? "x86_64"],
      Environment: { Variables: { ...o.env, SKYPOOL_AUTHKEY: authkey } },
      Tags: { [RUNTIME_TAG]: "1" },
      Description: "skypool runtime (skypool runtime deploy)",
    }));
    const waited = await sdk.waitUntilFunctionActiveV2({ client, maxWaitTime: o.waitSeconds ?? 300 }, { FunctionName: name });
    checkWaited(waited, name, "become Active");
    await client.send(new sdk.PutFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: 0 }));
    const got = await client.send(new sdk.GetFunctionCommand({ FunctionName: name }));
    return info(got.Configuration ?? {});
  });
}

/**
 * Builds the runtime again and replaces the code of its function, waiting
 * until the update is done.
 *
 * @example
 * ```ts ignore
 * import { updateRuntime } from "./src/remote/lambda_runtime.ts";
 * await updateRuntime({ name: "skypool", include: ["./setup.ts"] });
 * ```
 * @throws {SkypoolError} when the function does not exist, or without AWS credentials.
 */
export async function updateRuntime(options: RuntimeDeployOptions = {}): Promise<RuntimeInfo> {
  const o = checkOptions<RuntimeDeployOptions>("updateRuntime options", options, DEPLOY_OPTIONS);
  const name = o.name ?? config.get().lambda.functionName;
  const zip = await buildRuntimeZip({ include: o.include, entry: o.entry });
  return withClient(o.client, name, async (client, sdk) => {
    await client.send(new sdk.UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip }));
    const waited = await sdk.waitUntilFunctionUpdatedV2({ client, maxWaitTime: o.waitSeconds ?? 300 }, { FunctionName: name });
    checkWaited(waited, name, "finish its update");
    return info((await client.send(new sdk.GetFunctionCommand({ FunctionName: name }))).Configuration ?? {});
  });
}

/**
 * The functions deployed by skypool (tagged `skypool`) in the client's region.
 *
 * @example
 * ```ts ignore
 * import { listRuntimes } from "./src/remote/lambda_runtime.ts";
 * for (const r of await listRuntimes()) console.log(r.name, r.memory);
 * ```
 * @throws {SkypoolError} without AWS credentials.
 */
export function listRuntimes(options: { client?: LambdaClientOptions } = {}): Promise<RuntimeInfo[]> {
  return withClient(options.client, "(list)", async (client, sdk) => {
    const out: RuntimeInfo[] = [];
    let marker: string | undefined;
    do {
      const page = await client.send(new sdk.ListFunctionsCommand({ Marker: marker }));
      for (const f of page.Functions ?? []) {
        const { Tags } = await client.send(new sdk.ListTagsCommand({ Resource: f.FunctionArn }));
        if (Tags?.[RUNTIME_TAG] !== undefined) out.push(info(f));
      }
      marker = page.NextMarker;
    } while (marker);
    return out;
  });
}

/**
 * Deletes a runtime's function.
 *
 * @example
 * ```ts ignore
 * import { removeRuntime } from "./src/remote/lambda_runtime.ts";
 * await removeRuntime({ name: "skypool" });
 * ```
 * @throws {SkypoolError} when it does not exist, or without AWS credentials.
 */
export function removeRuntime(options: { name?: string; client?: LambdaClientOptions } = {}): Promise<void> {
  const name = options.name ?? config.get().lambda.functionName;
  return withClient(options.client, name, async (client, sdk) => {
    await client.send(new sdk.DeleteFunctionCommand({ FunctionName: name }));
  });
}
