// Builds the npm package from the TypeScript sources with the TypeScript
// compiler API. Relative `.ts` specifiers become `.js` (the compiler's
// rewriteRelativeImportExtensions); `npm:name@range/sub` specifiers, which
// Deno needs, become the bare `name/sub` that Node resolves from
// node_modules. Output: npm/build/ (sources, tests, examples and benches,
// for the Node test run) and npm/package/ (what `npm pack` publishes, its
// entries bundled: see bundlePackage).
import ts from "typescript";
import * as esbuild from "esbuild";
import { parse } from "acorn";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// SKYPOOL_BUILD_DIR builds elsewhere (and skips the package), so that a
// test run is not pulled from under another build.
const buildDir = process.env.SKYPOOL_BUILD_DIR ? resolve(process.env.SKYPOOL_BUILD_DIR) : join(root, "npm", "build");
const packageDir = join(root, "npm", "package");

/** `npm:cbor-x@^1.6.9/foo` → `cbor-x/foo`; `npm:@scope/pkg@1/x` → `@scope/pkg/x`. */
export function bareSpecifier(spec) {
  if (!spec.startsWith("npm:")) return spec;
  const rest = spec.slice(4);
  const m = /^(@[^/@]+\/[^/@]+|[^/@]+)(?:@[^/]*)?(\/.*)?$/.exec(rest);
  if (!m) throw new Error(`cannot map npm specifier ${spec}`);
  return m[1] + (m[2] ?? "");
}

/** `import.meta.resolve` (which resolves a package specifier as `import()` would). */
function isImportMetaResolve(expr) {
  return ts.isPropertyAccessExpression(expr) && ts.isMetaProperty(expr.expression) &&
    expr.expression.keywordToken === ts.SyntaxKind.ImportKeyword && expr.name.text === "resolve";
}

function rewriteSpecifiers(context) {
  const f = context.factory;
  const fix = (lit) =>
    lit && ts.isStringLiteral(lit) && lit.text.startsWith("npm:")
      ? f.createStringLiteral(bareSpecifier(lit.text))
      : lit;
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      return f.updateImportDeclaration(node, node.modifiers, node.importClause, fix(node.moduleSpecifier), node.attributes);
    }
    if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      return f.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, fix(node.moduleSpecifier), node.attributes);
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      return f.updateImportTypeNode(node, f.updateLiteralTypeNode(node.argument, fix(node.argument.literal)), node.attributes, node.qualifier, node.typeArguments, node.isTypeOf);
    }
    if (ts.isCallExpression(node) && node.arguments.length > 0 && (node.expression.kind === ts.SyntaxKind.ImportKeyword || isImportMetaResolve(node.expression))) {
      return f.updateCallExpression(node, node.expression, node.typeArguments, [fix(node.arguments[0]), ...node.arguments.slice(1)]);
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (sf) => ts.visitNode(sf, visit);
}

function compile() {
  const configPath = join(root, "tsconfig.json");
  const cfg = ts.readConfigFile(configPath, ts.sys.readFile);
  if (cfg.error) throw new Error(ts.flattenDiagnosticMessageText(cfg.error.messageText, "\n"));
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root);
  rmSync(buildDir, { recursive: true, force: true });
  const program = ts.createProgram(parsed.fileNames, { ...parsed.options, outDir: buildDir });
  const result = program.emit(undefined, undefined, undefined, false, {
    before: [rewriteSpecifiers],
    afterDeclarations: [rewriteSpecifiers],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).concat(result.diagnostics);
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
    process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
    process.exit(1);
  }
}

/**
 * The package's entry modules at the repository root: `mod` is `skypool`,
 * each other one `skypool/<name>` (worker adapters, the test server), and
 * `cli` the `skypool` command.
 */
const ENTRIES = ["mod", "fetch", "worker", "lambda", "testing", "cli"].filter((e) => existsSync(join(root, `${e}.ts`)));

/**
 * Modules the worker bundle leaves out, so that they stay one module per
 * process: a task that imports skypool itself must meet the same error
 * classes (the codec sends skypool's own errors as themselves by prototype)
 * and the same handle registry (handles it makes or receives) as the worker.
 */
const WORKER_SHARED = ["src/errors.js", "src/task/codec_handles.js"];

/**
 * How the bundles are minified: whitespace and syntax, not names (stack
 * traces and `name` properties stay readable; the package's source maps
 * lead back to the TypeScript). V8 scans all of a module's text when it
 * loads it, and that was most of `import "skypool"`: minified, the import
 * takes 6–9 % less time (bench/results/import_minify.md).
 */
const MINIFY = { minifyWhitespace: true, minifySyntax: true };

/**
 * `src/worker/subprocess_bundle.js`: the worker entry and every module it
 * loads, in one file (Node then loads one module instead of about 25, which
 * halves a worker's module-loading time). npm packages and WORKER_SHARED
 * stay imports. Modules a worker loads on demand by URL (the state handle
 * kinds, the executor's call runner) are not in it: they are the package's
 * own files, which import WORKER_SHARED as the bundle does.
 */
async function bundleWorker() {
  const outfile = join(buildDir, "src", "worker", "subprocess_bundle.js");
  const shared = new Set(WORKER_SHARED.map((f) => join(buildDir, f)));
  const keepShared = {
    name: "keep-shared",
    setup(build) {
      build.onResolve({ filter: /^\./ }, (args) => {
        const abs = resolve(args.resolveDir, args.path);
        if (!shared.has(abs)) return undefined;
        const rel = relative(dirname(outfile), abs).split(sep).join("/");
        return { path: rel.startsWith(".") ? rel : "./" + rel, external: true };
      });
    },
  };
  await esbuild.build({
    entryPoints: [join(buildDir, "src", "worker", "subprocess_main.js")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    plugins: [keepShared],
    sourcemap: true,
    logLevel: "warning",
    legalComments: "none",
    ...MINIFY,
  });
}

/**
 * Modules of the package loaded by URL at run time (a worker's handle
 * kinds, the executor's call runner) or imported by the worker bundle (its
 * WORKER_SHARED): entries of the package bundle besides ENTRIES, so that
 * they stay files and share one copy of every module with `skypool`.
 */
const PACKAGE_SHARED = [...WORKER_SHARED, "src/state/all_handles.js", "src/executor/call_runner.js"];

/** Replaced, in each output of the package bundle, by the package root's URL as seen from that file. */
const ROOT_TOKEN = "__SKYPOOL_PACKAGE_ROOT__";

/**
 * Each `import.meta.url` of a bundled module becomes its URL in the
 * package (the file it came from), so that what it locates from there
 * (the worker entry, the call runner, the package root) is still found.
 * Found by parsing, so that the words inside strings stay.
 */
const packageLocations = {
  name: "package-locations",
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(packageDir + sep) || args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("import.meta")) return undefined;
      const rel = relative(packageDir, args.path).split(sep).join("/");
      const spans = [];
      const walk = (node) => {
        if (node === null || typeof node !== "object") return;
        if (Array.isArray(node)) return node.forEach(walk);
        if (node.type === "MemberExpression" && node.object.type === "MetaProperty" && node.object.meta.name === "import" && !node.computed && node.property.name === "url") {
          spans.push([node.start, node.end]);
          return;
        }
        // A package's name resolves the same from any file of the package: nothing to relocate.
        if (
          node.type === "CallExpression" && node.callee.type === "MemberExpression" && node.callee.object.type === "MetaProperty" &&
          !node.callee.computed && node.callee.property.name === "resolve" && node.arguments.length === 1 &&
          node.arguments[0].type === "Literal" && typeof node.arguments[0].value === "string" && !/^[./]/.test(node.arguments[0].value)
        ) return;
        if (node.type === "MetaProperty") throw new Error(`${rel}: import.meta is used other than as import.meta.url; the package bundle cannot relocate it`);
        for (const key of Object.keys(node)) if (key !== "loc") walk(node[key]);
      };
      walk(parse(source, { ecmaVersion: "latest", sourceType: "module" }));
      let contents = source;
      for (const [start, end] of spans.reverse()) {
        contents = contents.slice(0, start) + `new URL(${JSON.stringify(rel)}, ${ROOT_TOKEN}).href` + contents.slice(end);
      }
      return { contents, loader: "js" };
    });
  },
};

/**
 * Bundles the package's entries (ENTRIES and PACKAGE_SHARED) with esbuild,
 * shared code in `chunk-*.js` files at the package root: Node then loads
 * `skypool` as a handful of files instead of about 120 modules (its import
 * was ~65 ms of CPU, most of it per-module loading). npm packages stay
 * imports; dynamic imports stay dynamic (their own chunks), so what loads
 * on first use still does. The package's other files stay as they were
 * (declarations, the worker bundle, sources for the Lambda runtime bundler).
 */
async function bundlePackage() {
  const entries = [...ENTRIES.map((e) => `${e}.js`), ...PACKAGE_SHARED].map((f) => join(packageDir, f));
  const result = await esbuild.build({
    entryPoints: entries,
    outdir: packageDir,
    outbase: packageDir,
    allowOverwrite: true,
    write: false,
    bundle: true,
    splitting: true,
    chunkNames: "chunk-[hash]",
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    plugins: [packageLocations],
    // Maps to the package's own src/*.js, whose maps lead on to the TypeScript.
    sourcemap: true,
    logLevel: "warning",
    legalComments: "none",
    ...MINIFY,
  });
  for (const file of result.outputFiles) {
    if (file.path.endsWith(".map")) {
      writeFileSync(file.path, file.contents);
      continue;
    }
    const depth = relative(packageDir, file.path).split(sep).length - 1;
    const rootUrl = `new URL(${JSON.stringify(depth === 0 ? "./" : "../".repeat(depth))}, import.meta.url).href`;
    let text = file.text.replaceAll(ROOT_TOKEN, rootUrl);
    if (text.includes(ROOT_TOKEN)) throw new Error(`bundlePackage: ${ROOT_TOKEN} left in ${file.path}`);
    if (file.path.endsWith("cli.js") && !text.startsWith("#!")) text = "#!/usr/bin/env node\n" + text;
    writeFileSync(file.path, text);
  }
  const cli = join(packageDir, "cli.js");
  if (existsSync(cli)) chmodSync(cli, 0o755);
}

function assemblePackage() {
  const dev = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  rmSync(packageDir, { recursive: true, force: true });
  mkdirSync(packageDir, { recursive: true });
  const entryFiles = ENTRIES.flatMap((e) => [`${e}.js`, `${e}.js.map`, `${e}.d.ts`]);
  for (const entry of [...entryFiles, "src", "wasm"].filter((e) => existsSync(join(buildDir, e)))) {
    cpSync(join(buildDir, entry), join(packageDir, entry), { recursive: true });
  }
  for (const file of ["README.md", "LICENSE"]) cpSync(join(root, file), join(packageDir, file));
  const pkg = {
    name: "skypool",
    version: dev.version,
    description: "Python's multiprocessing and Lithops' futures API for TypeScript: local worker processes, serverless functions and worker fleets, with shared state in Redis.",
    type: "module",
    main: "./mod.js",
    types: "./mod.d.ts",
    // ESM only: `require("skypool")` is refused by `exports` (the README says so).
    exports: Object.fromEntries(
      ENTRIES.filter((e) => e !== "cli").map((e) => [e === "mod" ? "." : `./${e}`, { types: `./${e}.d.ts`, import: `./${e}.js` }]),
    ),
    // cli.js starts with `#!/usr/bin/env node` (kept from cli.ts).
    bin: { skypool: "./cli.js" },
    files: [...entryFiles, "chunk-*.js", "chunk-*.js.map", "src", "wasm", "README.md", "LICENSE"],
    // Modules that register handle kinds and codec tags when loaded: a
    // bundler must keep them even when nothing imports a name from them.
    // The bundled entries' shared code (those modules among it) is in ./chunk-*.js.
    sideEffects: ["./mod.js", "./chunk-*.js", "./src/state/*.js", "./src/storage/*.js", "./src/task/codec_reader.js", "./src/task/codec_path.js"],
    keywords: dev.keywords,
    engines: { node: ">=20.16" },
    dependencies: dev.dependencies,
    license: dev.license,
  };
  writeFileSync(join(packageDir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
}

/**
 * Makes the built CLI executable, and gives the build the package.json that
 * `src/cli/version.ts` reads the version from (two folders above it).
 */
function finishBuild() {
  const dev = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  writeFileSync(join(buildDir, "package.json"), JSON.stringify({ name: "skypool-build", private: true, version: dev.version, type: "module" }, null, 2) + "\n");
  const cli = join(buildDir, "cli.js");
  if (existsSync(cli)) chmodSync(cli, 0o755);
}

compile();
finishBuild();
await bundleWorker();
if (process.env.SKYPOOL_BUILD_DIR) {
  console.log(`built ${buildDir}`);
} else {
  assemblePackage();
  await bundlePackage();
  console.log(`built ${packageDir}`);
}
