#!/usr/bin/env node
// patchbay-js: build a TypeScript/JavaScript Patchbay plugin into a component.
//
//   patchbay-js types   generates the contract's TypeScript declarations (jco)
//   patchbay-js build   types, type-checks (tsc), bundles (esbuild) and
//                       componentizes (componentize-js, StarlingMonkey)
//
// The manifest is the plugin's patchbay.toml, checked here (a mistake stops
// the build, naming the key); its version defaults to package.json's. Build
// settings come from package.json, key "patchbay", all optional:
//   { "world": "messaging-provider", "capabilities": ["webhooks"],
//     "entry": "src/plugin.ts", "out": "dist/plugin.wasm" }
// (the world defaults to the family's; each capability is exported beside
// it, through a world the build writes to generated/wit). The build generates the module that
// componentize-js exports (generated/patchbay-entry.js): the manifest, and
// every operation of the world routed to the plugin's exports; what the
// plugin leaves out answers `unsupported`, and an exception that is not a
// ConnectorError is `permanent`. The contract is the package's own wit/ (the
// version CONTRACT_VERSION names), beside ports.json, the contract's
// operations for the generated routing.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { Mistake, parse as parseManifest } from "./manifest.mjs";

const SDK = dirname(dirname(fileURLToPath(import.meta.url)));
const PORT_WORLDS = {
  shop: "shop-provider",
  courier: "courier-provider",
  payment: "payment-provider",
  messaging: "messaging-provider",
  storage: "storage-provider",
  llm: "llm-provider",
  feed: "feed-provider",
  other: "action-provider",
};

const plugin = process.cwd();

function fail(message) {
  console.error(`patchbay-js: ${message}`);
  process.exit(1);
}

async function settings() {
  const packageJson = join(plugin, "package.json");
  if (!existsSync(packageJson)) fail(`no package.json in ${plugin}`);
  const pkg = JSON.parse(readFileSync(packageJson, "utf8"));
  const manifest = await readManifest(pkg.version);
  const s = pkg.patchbay ?? {};
  const capabilities = s.capabilities ?? [];
  const ports = JSON.parse(readFileSync(join(SDK, "ports.json"), "utf8"));
  // Capabilities: every exportable interface but the ports.
  const known = Object.keys(ports).filter((name) => !(name in PORT_WORLDS) && name !== "actions");
  if (!Array.isArray(capabilities)) fail(`${packageJson}: patchbay.capabilities: must be a list of interface names`);
  for (const name of capabilities) {
    if (!known.includes(name)) {
      fail(`${packageJson}: patchbay.capabilities: ${JSON.stringify(name)} is not a capability of the contract (one of ${known.join(", ")})`);
    }
  }
  return {
    manifest,
    capabilities,
    world: s.world ?? PORT_WORLDS[manifest.family],
    entry: join(plugin, s.entry ?? "src/plugin.ts"),
    out: join(plugin, s.out ?? `dist/${manifest.family}-${manifest.name}.wasm`),
  };
}

/** patchbay.toml, checked, with the package's version and the SDK's contract version. */
async function readManifest(packageVersion) {
  const path = join(plugin, "patchbay.toml");
  if (!existsSync(path)) fail(`${path}: cannot read the plugin's manifest; every plugin has a patchbay.toml`);
  const { parse: toml } = await importPackage("smol-toml");
  let manifest;
  try {
    manifest = parseManifest(readFileSync(path, "utf8"), toml);
  } catch (error) {
    if (error instanceof Mistake) fail(`${path}: ${error.key}: ${error.problem}`);
    throw error;
  }
  manifest.version ??= packageVersion ?? fail(`${path}: version: is missing, and package.json declares none`);
  const index = readFileSync(join(SDK, "src", "index.ts"), "utf8");
  manifest["contract-version"] = /CONTRACT_VERSION = "([^"]+)"/.exec(index)[1];
  return manifest;
}

/** The interfaces a world exports, from wit/worlds.wit. */
function worldExports(world) {
  const text = readFileSync(join(witDir(), "worlds.wit"), "utf8");
  const found = new RegExp(`world\\s+${world}\\s*\\{([^}]*)\\}`).exec(text);
  if (!found) fail(`the contract has no world ${JSON.stringify(world)}`);
  return [...found[1].matchAll(/^\s*export\s+([a-z0-9-]+)\s*;/gm)].map((m) => m[1]);
}

/**
 * The contract the component is built for: the world's, or, with
 * capabilities, a copy of wit/ in generated/wit with a world `plugin` that
 * includes the world and exports each capability.
 */
function contract({ world, capabilities }) {
  if (capabilities.length === 0) return { wit: witDir(), world, exports: worldExports(world) };
  const dir = join(plugin, "generated", "wit");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(witDir()).filter((f) => f.endsWith(".wit"))) {
    writeFileSync(join(dir, file), readFileSync(join(witDir(), file)));
  }
  const lines = [`world plugin {`, `    include ${world};`, ...capabilities.map((c) => `    export ${c};`), "}", ""];
  writeFileSync(join(dir, "plugin-world.wit"), "// Generated by patchbay-js from package.json; do not edit.\n" + lines.join("\n"));
  return { wit: dir, world: "plugin", exports: [...worldExports(world), ...capabilities] };
}

/** The module componentize-js exports: the manifest, and each operation routed to the plugin. */
function entryModule({ manifest, entry }, { exports }) {
  const ports = JSON.parse(readFileSync(join(SDK, "ports.json"), "utf8"));
  const lines = [
    "// Generated by patchbay-js from patchbay.toml and the contract; do not edit.",
    `import * as plugin from ${JSON.stringify(entry)};`,
    'import { manifest, operation } from "@patchbay/sdk/exports";',
    "",
    `const MANIFEST = manifest(${JSON.stringify(manifest)});`,
    "",
    "const bound = (object, name) => (typeof object?.[name] === \"function\" ? object[name].bind(object) : undefined);",
    "",
    "export const connector = {",
    "  manifest: () => MANIFEST,",
    '  testConnection: operation("connector.test-connection", "result", bound(plugin.connector, "testConnection")),',
    "};",
  ];
  for (const name of exports) {
    if (name === "connector") continue;
    const port = ports[name];
    lines.push("", `export const ${port.camel} = {`);
    for (const f of port.functions) {
      lines.push(`  ${f.camel}: operation(${JSON.stringify(`${name}.${f.name}`)}, "${f.returns}", bound(plugin.${port.camel}, "${f.camel}")),`);
    }
    lines.push("};");
  }
  return lines.join("\n") + "\n";
}

function witDir() {
  const wit = join(SDK, "wit");
  if (!existsSync(join(wit, "worlds.wit"))) fail(`the SDK's contract is missing: no ${join(wit, "worlds.wit")}`);
  return wit;
}

/** A package's directory, looked up the way Node resolves modules. */
function packageDir(pkg) {
  for (const start of [plugin, dirname(fileURLToPath(import.meta.url))]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", pkg);
      if (existsSync(join(candidate, "package.json"))) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  fail(`${pkg} is not installed: run npm install in ${plugin}`);
}

function bin(pkg, name) {
  const packageJson = join(packageDir(pkg), "package.json");
  const meta = JSON.parse(readFileSync(packageJson, "utf8"));
  const rel = typeof meta.bin === "string" ? meta.bin : meta.bin[name];
  return join(dirname(packageJson), rel);
}

/** Imports a package installed beside the plugin (its "exports" entry, else "main"). */
async function importPackage(pkg) {
  const dir = packageDir(pkg);
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const entry = meta.exports?.["."]?.import ?? meta.exports?.import ?? meta.exports?.["."] ?? meta.main ?? "index.js";
  return import(pathToFileURL(join(dir, typeof entry === "string" ? entry : entry.default)).href);
}

function run(step, file, args) {
  console.log(`    ${step}`);
  try {
    execFileSync(process.execPath, [file, ...args], { stdio: "inherit", cwd: plugin });
  } catch {
    fail(`${step} failed`);
  }
}

function types({ wit, world }) {
  run(`types for ${world} (jco guest-types)`, bin("@bytecodealliance/jco", "jco"), [
    "guest-types", wit, "--world-name", world, "-o", join(plugin, "generated"), "--quiet",
  ]);
}

async function build() {
  const s = await settings();
  const c = contract(s);
  types(c);
  const entry = join(plugin, "generated", "patchbay-entry.js");
  mkdirSync(dirname(entry), { recursive: true });
  writeFileSync(entry, entryModule(s, c));
  if (existsSync(join(plugin, "tsconfig.json"))) {
    run("type-check (tsc --noEmit)", bin("typescript", "tsc"), ["--noEmit", "-p", plugin]);
  }
  console.log("    bundle (esbuild)");
  const esbuild = await importPackage("esbuild");
  const bundle = join(plugin, "dist", "bundle.js");
  mkdirSync(dirname(bundle), { recursive: true });
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    outfile: bundle,
    external: ["patchbay:*", "wasi:*"],
    logLevel: "warning",
  });
  console.log("    componentize (componentize-js)");
  const { componentize } = await importPackage("@bytecodealliance/componentize-js");
  const { component } = await componentize({
    sourcePath: bundle,
    witPath: c.wit,
    worldName: c.world,
    // `fetch` stays available: the host routes wasi:http through its pipeline.
    disableFeatures: ["fetch-event"],
  });
  mkdirSync(dirname(s.out), { recursive: true });
  writeFileSync(s.out, component);
  console.log(`    ${s.out} (${statSync(s.out).size} bytes)`);
}

const command = process.argv[2];
if (command === "types") { const s = await settings(); types(contract(s)); }
else if (command === "build") await build();
else fail("usage: patchbay-js build | types");
