// Builds the npm package from the TypeScript sources with the TypeScript
// compiler API. Relative `.ts` specifiers become `.js` (the compiler's
// rewriteRelativeImportExtensions); `npm:name@range/sub` specifiers, which
// Deno needs, become the bare `name/sub` that Node resolves from
// node_modules. Output: npm/build/ (sources, tests, examples and benches,
// for the Node test run) and npm/package/ (what `npm pack` publishes).
import ts from "typescript";
import * as esbuild from "esbuild";
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
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0) {
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
    logLevel: "warning",
    legalComments: "none",
  });
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
    files: [...entryFiles, "src", "wasm", "README.md", "LICENSE"],
    // Modules that register handle kinds and codec tags when loaded: a
    // bundler must keep them even when nothing imports a name from them.
    sideEffects: ["./mod.js", "./src/state/*.js", "./src/storage/*.js", "./src/task/codec_reader.js", "./src/task/codec_path.js"],
    keywords: dev.keywords,
    engines: { node: ">=20" },
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
  console.log(`built ${packageDir}`);
}
