/**
 * The submit side of module bundling: `task(moduleUrl, export)` on a remote
 * transport ships the module and everything it imports as one ES module,
 * made by esbuild (loaded on first use; its native binary runs under Node
 * and Deno alike). The worker side is `bundle_loader.ts`.
 *
 * @module
 */
import { config } from "../config.ts";
import { SerializationError } from "../errors.ts";
import { fsPromises, nodeCrypto, nodePath, nodeUrl } from "../runtime/builtins.ts";

/** Options of {@link bundleModule}. */
export interface BundleOptions {
  /**
   * Packages left as imports (`import "pkg"`, `import "pkg/sub"`), which the
   * worker resolves from its own `node_modules`: packages with native code,
   * or too large to ship. `skypool` itself is always external.
   * @default config `bundle.external`
   */
  external?: readonly string[];
}

/** A bundled module: its code, and the SHA-256 of the code (hex), which names it. */
export interface Bundle {
  /** The SHA-256 of {@link Bundle.code}, in hex: the key workers cache it by. */
  hash: string;
  /** One ES module holding the module and every import that is not external. */
  code: string;
}

type Esbuild = typeof import("npm:esbuild@^0.28.2");
let esbuild: Promise<Esbuild> | undefined;

/** What a cached bundle was made from: each input file's size and modification time. */
interface Made {
  bundle: Bundle;
  inputs: Map<string, string>;
}

/** Bundles kept per module URL and external set; the oldest are dropped beyond this many. */
const MAX_CACHED = 64;
const cache = new Map<string, Promise<Made>>();

/** `pkg` of `pkg/sub`, `@scope/pkg` of `@scope/pkg/sub`; `undefined` for a path or URL. */
function packageName(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** `npm:name@range/sub` → `name/sub` (as the npm build rewrites skypool's own imports). */
export function bareOfNpm(specifier: string): string | undefined {
  const m = /^npm:\/?(@[^/@]+\/[^/@]+|[^/@]+)(?:@[^/]*)?(\/.*)?$/.exec(specifier);
  return m ? m[1] + (m[2] ?? "") : undefined;
}

function checkExternal(external: unknown): string[] {
  if (!Array.isArray(external)) throw new TypeError(`bundleModule: external must be an array of package names, got ${typeof external}`);
  for (const name of external) {
    if (typeof name !== "string" || packageName(name) !== name || name === "") {
      throw new TypeError(`bundleModule: external entries must be package names ("pkg" or "@scope/pkg"), got ${JSON.stringify(name)}`);
    }
  }
  return [...new Set(external as string[])].sort();
}

/** Size and modification time of each input, or `undefined` where one is gone. */
async function stamps(paths: Iterable<string>): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  await Promise.all([...paths].map(async (p) => {
    try {
      const s = await fsPromises().stat(p);
      out.set(p, `${s.size}:${s.mtimeMs}`);
    } catch {
      out.set(p, undefined);
    }
  }));
  return out;
}

async function unchanged(made: Made): Promise<boolean> {
  const now = await stamps(made.inputs.keys());
  for (const [p, stamp] of made.inputs) if (now.get(p) !== stamp) return false;
  return true;
}

function fail(moduleUrl: string, why: string, cause?: unknown): SerializationError {
  return new SerializationError(`cannot bundle module ${moduleUrl}: ${why}`, cause === undefined ? undefined : { cause });
}

async function build(moduleUrl: string, path: string, external: readonly string[]): Promise<Made> {
  const { build } = await (esbuild ??= import("npm:esbuild@^0.28.2"));
  const workDir = nodePath().dirname(path);
  const externals = new Set(external);
  let result;
  try {
    result = await build({
      entryPoints: [path],
      // Paths in the output's comments are relative to it: the same module
      // gives the same bundle (and hash) whatever the caller's cwd.
      absWorkingDir: workDir,
      bundle: true,
      write: false,
      format: "esm",
      // node: builtins stay imports; Deno workers import them too.
      platform: "node",
      target: "es2022",
      metafile: true,
      logLevel: "silent",
      // CommonJS packages bundled into ES output call `require` for Node
      // builtins: give them one.
      banner: { js: 'import { createRequire as __skypoolCreateRequire } from "node:module";\nconst require = __skypoolCreateRequire(import.meta.url);' },
      plugins: [{
        name: "skypool-imports",
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, async (args) => {
            const bare = args.path.startsWith("npm:") ? bareOfNpm(args.path) : args.path;
            if (bare === undefined) return { errors: [{ text: `cannot read the npm specifier ${JSON.stringify(args.path)}` }] };
            const name = packageName(bare);
            if (name !== undefined && externals.has(name)) return { path: bare, external: true };
            if (bare === args.path) return undefined;
            // Deno's `npm:` specifiers: bundled from node_modules like bare ones.
            const r = await b.resolve(bare, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer });
            return r.errors.length > 0 ? { errors: r.errors } : { path: r.path, external: r.external, sideEffects: r.sideEffects };
          });
        },
      }],
    });
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line}:${first.location.column + 1})` : "";
    const more = errors !== undefined && errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw fail(moduleUrl, first ? `${first.text}${where}${more}` : String((err as Error)?.message ?? err), err);
  }
  const code = result.outputFiles![0].text;
  const hash = nodeCrypto().createHash("sha256").update(code).digest("hex");
  const inputs = await stamps(Object.keys(result.metafile!.inputs).map((p) => nodePath().resolve(workDir, p)));
  return { bundle: { hash, code }, inputs: new Map([...inputs].map(([p, s]) => [p, s ?? ""])) };
}

/**
 * Bundles the module at `moduleUrl` (a `file:` URL) with everything it
 * imports into one ES module, except Node builtins and the `external`
 * packages, which stay imports. Deno's `npm:` specifiers are bundled from
 * `node_modules` like bare ones. The result is cached per URL and external
 * set until one of the files it was made from changes.
 *
 * @example
 * ```ts
 * import { pathToFileURL } from "node:url";
 * import { bundleModule } from "./src/task/bundle.ts";
 * const { hash, code } = await bundleModule(pathToFileURL("src/task/checksum.ts").href);
 * console.assert(hash.length === 64 && code.includes("export"));
 * ```
 * @throws {TypeError} (rejects) for a `moduleUrl` that is not a string, or
 *   `external` that is not an array of package names.
 * @throws {SerializationError} (rejects) for a module that cannot be bundled:
 *   not a `file:` URL, a syntax error, an import that does not resolve (the
 *   message names the module and esbuild's reason).
 */
export function bundleModule(moduleUrl: string, options: BundleOptions = {}): Promise<Bundle> {
  return bundleFor(moduleUrl, options).then((made) => made.bundle);
}

async function bundleFor(moduleUrl: string, options: BundleOptions): Promise<Made> {
  if (typeof moduleUrl !== "string") throw new TypeError(`bundleModule: moduleUrl must be a URL string, got ${typeof moduleUrl}`);
  // skypool itself is never bundled: the worker runs its own copy, whose
  // handle kinds and codec a second, bundled copy would not share.
  const external = checkExternal([...checkExternal(options.external ?? config.get().bundle.external), "skypool"]);
  if (!moduleUrl.startsWith("file:")) {
    throw fail(moduleUrl, "only file: modules can be bundled (a remote worker imports node:, npm: and http(s): modules itself)");
  }
  let path: string;
  try {
    path = nodeUrl().fileURLToPath(moduleUrl);
  } catch (err) {
    throw fail(moduleUrl, (err as Error).message, err);
  }
  const key = `${moduleUrl}\n${external.join("\n")}`;
  const cached = cache.get(key);
  if (cached !== undefined) {
    const made = await cached.catch(() => undefined);
    if (made !== undefined && (await unchanged(made))) return made;
    if (cache.get(key) !== cached) return await bundleFor(moduleUrl, options);
  }
  const p = build(moduleUrl, path, external);
  cache.delete(key);
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(key, p);
  // A failed build may succeed once the file is fixed: do not keep it.
  p.catch(() => {
    if (cache.get(key) === p) cache.delete(key);
  });
  return await p;
}

/**
 * Stops esbuild's service process (tests; a program that bundles nothing
 * more). Bundling again starts it again.
 */
export async function stopBundler(): Promise<void> {
  const loaded = esbuild;
  if (loaded === undefined) return;
  esbuild = undefined;
  await (await loaded).stop();
}
