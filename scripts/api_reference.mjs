// Renders docs/api.md, the API reference, from the JSDoc of everything
// mod.ts exports (`deno doc --json mod.ts`), so the reference cannot drift
// from the code: CI runs this with `--check`.
//
//   node scripts/api_reference.mjs           write docs/api.md
//   node scripts/api_reference.mjs --check   fail if docs/api.md is stale
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deno = join(root, "node_modules", ".bin", "deno");
const out = join(root, "docs", "api.md");

// Type definitions (deno_doc's TsTypeDef) back to TypeScript text.
function type(t) {
  if (t === undefined || t === null) return "unknown";
  const v = t.value;
  switch (t.kind) {
    case "keyword":
      return v;
    case "literal":
      if (v.kind === "string") return JSON.stringify(v.string);
      if (v.kind === "number") return String(v.number);
      if (v.kind === "boolean") return String(v.boolean);
      if (v.kind === "bigInt") return `${v.string}n`;
      if (v.kind === "template") return `\`${v.tsTypes.map((x) => x.kind === "literal" ? x.value.string : `\${${type(x)}}`).join("")}\``;
      return t.repr;
    case "typeRef":
      return v.typeParams?.length ? `${v.typeName}<${v.typeParams.map(type).join(", ")}>` : v.typeName;
    case "union":
      return v.map(type).join(" | ");
    case "intersection":
      return v.map(type).join(" & ");
    case "array": {
      const inner = type(v);
      return /^[\w.<>, ]+$/.test(inner) ? `${inner}[]` : `(${inner})[]`;
    }
    case "tuple":
      return `[${v.map(type).join(", ")}]`;
    case "parenthesized":
      return `(${type(v)})`;
    case "typeOperator":
      return `${v.operator} ${type(v.tsType)}`;
    case "typeQuery":
      return `typeof ${typeof v === "string" ? v : v.repr ?? t.repr}`;
    case "indexedAccess":
      return `${type(v.objType)}[${type(v.indexType)}]`;
    case "fnOrConstructor":
      return `${v.constructor ? "new " : ""}${typeParams(v.typeParams)}(${params(v.params)}) => ${type(v.tsType)}`;
    case "typeLiteral":
      return typeLiteral(v);
    case "conditional":
      return `${type(v.checkType)} extends ${type(v.extendsType)} ? ${type(v.trueType)} : ${type(v.falseType)}`;
    case "mapped":
      return `{ ${v.readonly ? "readonly " : ""}[${v.typeParam.name} in ${type(v.typeParam.constraint)}]${v.optional === true ? "?" : v.optional === "-" ? "-?" : ""}: ${type(v.tsType)} }`;
    case "typePredicate":
      return `${v.asserts ? "asserts " : ""}${v.param.type === "this" ? "this" : v.param.name}${v.type ? ` is ${type(v.type)}` : ""}`;
    case "infer":
      return `infer ${v.typeParam.name}`;
    case "this":
      return "this";
    case "optional":
      return `${type(v)}?`;
    case "rest":
      return `...${type(v)}`;
    case "importType":
      return `import(${JSON.stringify(v.specifier)})${v.qualifier ? `.${v.qualifier}` : ""}`;
    default:
      return t.repr || "unknown";
  }
}

function typeLiteral(v) {
  const parts = [
    ...(v.properties ?? []).map((p) => `${p.readonly ? "readonly " : ""}${p.name}${p.optional ? "?" : ""}: ${type(p.tsType)}`),
    ...(v.methods ?? []).map((m) => `${m.name}${typeParams(m.typeParams)}(${params(m.params)}): ${type(m.returnType)}`),
    ...(v.indexSignatures ?? []).map((s) => `[${params(s.params)}]: ${type(s.tsType)}`),
    ...(v.callSignatures ?? []).map((s) => `${typeParams(s.typeParams)}(${params(s.params)}): ${type(s.tsType)}`),
  ];
  return parts.length ? `{ ${parts.join("; ")} }` : "{}";
}

function param(p) {
  const t = p.tsType ? `: ${type(p.tsType)}` : "";
  switch (p.kind) {
    case "identifier":
      return `${p.name}${p.optional ? "?" : ""}${t}`;
    case "rest":
      return `...${param(p.arg)}${t}`;
    case "assign":
      return `${param(p.left).replace(/\?$/, "")}${p.left.tsType ? "" : t} = ${p.right}`;
    case "object":
      return `{ ${p.props.map((x) => x.key ?? x.name ?? "…").join(", ")} }${t}`;
    case "array":
      return `[…]${t}`;
    default:
      return `${p.name ?? "_"}${t}`;
  }
}

function params(ps = []) {
  return ps.map(param).join(", ");
}

function typeParams(tps) {
  if (!tps?.length) return "";
  return `<${tps.map((tp) => `${tp.name}${tp.constraint ? ` extends ${type(tp.constraint)}` : ""}${tp.default ? ` = ${type(tp.default)}` : ""}`).join(", ")}>`;
}

function signature(name, d) {
  const def = d.def;
  switch (d.kind) {
    case "function":
      return `function ${name}${typeParams(def.typeParams)}(${params(def.params)}): ${type(def.returnType)}`;
    case "variable":
      return `${def.kind} ${name}: ${type(def.tsType)}`;
    case "typeAlias":
      return `type ${name}${typeParams(def.typeParams)} = ${type(def.tsType)}`;
    case "interface": {
      const ext = def.extends?.length ? ` extends ${def.extends.map(type).join(", ")}` : "";
      return `interface ${name}${typeParams(def.typeParams)}${ext}`;
    }
    case "class": {
      const ext = def.extends ? ` extends ${def.extends}${def.superTypeParams?.length ? `<${def.superTypeParams.map(type).join(", ")}>` : ""}` : "";
      const impl = def.implements?.length ? ` implements ${def.implements.map(type).join(", ")}` : "";
      return `${def.isAbstract ? "abstract " : ""}class ${name}${typeParams(def.typeParams)}${ext}${impl}`;
    }
    default:
      return `${d.kind} ${name}`;
  }
}

// JSDoc text: inline {@link X} as code, tags rendered as lists.
const link = (s) => s.replace(/\{@link(?:code|plain)?\s+([^}|\s]+)(?:[\s|]+([^}]*))?\}/g, (_, target, label) => `\`${label?.trim() || target}\``);

function docOf(jsDoc, level) {
  if (!jsDoc) return "";
  const lines = [];
  if (jsDoc.doc?.trim()) lines.push(link(jsDoc.doc.trim()));
  const tags = jsDoc.tags ?? [];
  const params = tags.filter((t) => t.kind === "param" && t.doc);
  if (params.length) lines.push(params.map((t) => `- \`${t.name}\`: ${link(t.doc.trim())}`).join("\n"));
  for (const t of tags) {
    if (t.kind === "default") lines.push(`Default: \`${t.value}\`${t.doc ? ` (${link(t.doc.trim())})` : ""}`);
    if (t.kind === "return" && t.doc) lines.push(`Returns ${link(t.doc.trim())}`);
    if (t.kind === "deprecated") lines.push(`**Deprecated.** ${link(t.doc ?? "")}`);
  }
  const throws = tags.filter((t) => t.kind === "throws");
  if (throws.length) {
    lines.push(`Throws:\n\n${throws.map((t) => `- ${t.tsType ? `\`${type(t.tsType)}\` ` : ""}${link((t.doc ?? "").trim())}`).join("\n")}`);
  }
  for (const t of tags.filter((t) => t.kind === "example")) {
    lines.push(`${"#".repeat(level)} Example\n\n${t.doc.trim()}`);
  }
  return lines.join("\n\n");
}

const hidden = (m) => m.accessibility === "private" || m.accessibility === "protected" || m.name.startsWith("#") ||
  (m.jsDoc?.tags ?? []).some((t) => t.kind === "ignore" || t.kind === "internal");

function members(d, level) {
  const def = d.def;
  const blocks = [];
  const heading = "#".repeat(level);
  for (const c of d.kind === "class" ? def.constructors ?? [] : []) {
    if (hidden(c)) continue;
    blocks.push(`${heading} \`new ${d.name ?? ""}(${params(c.params)})\`\n\n${docOf(c.jsDoc, level + 1)}`);
  }
  for (const p of def.properties ?? []) {
    if (hidden(p)) continue;
    const mods = `${p.isStatic ? "static " : ""}${p.readonly ? "readonly " : ""}`;
    const t = p.tsType ? `: ${type(p.tsType)}` : "";
    blocks.push(`${heading} \`${mods}${p.name}${p.optional ? "?" : ""}${t}\`\n\n${docOf(p.jsDoc, level + 1)}`);
  }
  for (const m of def.methods ?? []) {
    if (hidden(m)) continue;
    const f = m.functionDef ?? m;
    const pre = `${m.isStatic ? "static " : ""}${m.kind === "getter" ? "get " : m.kind === "setter" ? "set " : ""}`;
    const ret = m.kind === "setter" ? "" : `: ${type(f.returnType)}`;
    blocks.push(`${heading} \`${pre}${m.name}${m.optional ? "?" : ""}${typeParams(f.typeParams)}(${params(f.params)})${ret}\`\n\n${docOf(m.jsDoc, level + 1)}`);
  }
  return blocks.map((b) => b.trimEnd());
}

/** The package's entry modules: `mod.ts` is `skypool`, each other one `skypool/<name>`. */
const ENTRIES = ["mod.ts", "fetch.ts", "worker.ts", "lambda.ts", "testing.ts"].filter((e) => existsSync(join(root, e)));

/** One module's exports: a list of links, then each symbol's signature and JSDoc. */
function renderSymbols(mod, level) {
  const h = "#".repeat(level);
  const symbols = mod.symbols.filter((s) => s.declarations.some((d) => d.kind !== "import"));
  const parts = [...symbols.map((s) => `- [\`${s.name}\`](#${s.name.toLowerCase()})`)];
  for (const s of symbols) {
    for (const d of s.declarations) {
      if (d.kind === "import") continue;
      const file = relative(root, fileURLToPath(d.location.filename));
      const def = { ...d, name: s.name };
      parts.push(
        "",
        `${h} ${s.name}`,
        "",
        `${d.kind === "typeAlias" ? "type" : d.kind} · \`${file}\``,
        "",
        "```ts",
        signature(s.name, d),
        "```",
      );
      const text = docOf(d.jsDoc, level + 1);
      if (text) parts.push("", text);
      if (d.kind === "class" || d.kind === "interface") {
        for (const block of members(def, level + 1)) parts.push("", block);
      }
    }
  }
  return parts;
}

function render(doc) {
  const byFile = new Map(Object.entries(doc.nodes).map(([url, node]) => [relative(root, fileURLToPath(url)), node]));
  const mod = byFile.get("mod.ts");
  const parts = [
    "# skypool API reference",
    "",
    "<!-- Generated by `node scripts/api_reference.mjs` from the JSDoc of the package entries' exports; do not edit by hand (CI checks it is current). -->",
    "",
    link(mod.module_doc?.doc?.trim() ?? ""),
    "",
    `Entries: \`skypool\` (mod.ts)${ENTRIES.slice(1).map((e) => `, [\`skypool/${e.slice(0, -3)}\`](#skypool${e.slice(0, -3)})`).join("")}.`,
    "",
    "Exports of `skypool`, in the order mod.ts lists them (each with the file that defines it):",
    "",
    ...renderSymbols(mod, 2),
  ];
  for (const entry of ENTRIES.slice(1)) {
    const node = byFile.get(entry);
    if (!node) continue;
    parts.push("", `# skypool/${entry.slice(0, -3)}`, "", link(node.module_doc?.doc?.trim() ?? ""), "", ...renderSymbols(node, 2));
  }
  return parts.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

const r = spawnSync(deno, ["doc", "--json", ...ENTRIES], { cwd: root, encoding: "utf8", maxBuffer: 256 << 20 });
if (r.status !== 0) {
  process.stderr.write(r.stderr);
  console.error(`api_reference: \`deno doc --json ${ENTRIES.join(" ")}\` failed`);
  process.exit(1);
}
const text = render(JSON.parse(r.stdout));
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(out, "utf8");
  } catch { /* missing counts as stale */ }
  if (current !== text) {
    console.error("docs/api.md is out of date: run `node scripts/api_reference.mjs` and commit it");
    process.exit(1);
  }
  console.log("docs/api.md is up to date");
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`wrote ${relative(root, out)} (${text.length} bytes)`);
}
