#!/usr/bin/env node
// patchbay-js: build a TypeScript/JavaScript Patchbay plugin into a component.
//
//   patchbay-js types   generates the contract's TypeScript declarations (jco)
//   patchbay-js build   types, type-checks (tsc), bundles (esbuild) and
//                       componentizes (componentize-js, StarlingMonkey)
//
// Settings come from the plugin's package.json, key "patchbay":
//   { "world": "messaging-provider", "entry": "src/plugin.ts", "out": "dist/plugin.wasm" }
// The contract's wit/ directory is found by walking up from the plugin, or
// given with PATCHBAY_WIT.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const plugin = process.cwd();

function fail(message) {
  console.error(`patchbay-js: ${message}`);
  process.exit(1);
}

function settings() {
  const manifest = join(plugin, "package.json");
  if (!existsSync(manifest)) fail(`no package.json in ${plugin}`);
  const pkg = JSON.parse(readFileSync(manifest, "utf8"));
  const s = pkg.patchbay ?? {};
  if (!s.world) fail(`package.json has no "patchbay": { "world": ... } (e.g. "messaging-provider")`);
  return {
    world: s.world,
    entry: join(plugin, s.entry ?? "src/plugin.ts"),
    out: join(plugin, s.out ?? `dist/${pkg.name.replace(/^@[^/]+\//, "")}.wasm`),
  };
}

function witDir() {
  if (process.env.PATCHBAY_WIT) return resolve(process.env.PATCHBAY_WIT);
  for (let dir = plugin; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "wit", "worlds.wit"))) return join(dir, "wit");
    if (dirname(dir) === dir) fail("cannot find the contract's wit/ directory; set PATCHBAY_WIT");
  }
}

/** A package's directory, looked up the way Node resolves modules. */
function packageDir(pkg) {
  for (const start of [dirname(fileURLToPath(import.meta.url)), plugin]) {
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

function types({ world }) {
  run(`types for ${world} (jco guest-types)`, bin("@bytecodealliance/jco", "jco"), [
    "guest-types", witDir(), "--world-name", world, "-o", join(plugin, "generated"), "--quiet",
  ]);
}

async function build() {
  const s = settings();
  types(s);
  if (existsSync(join(plugin, "tsconfig.json"))) {
    run("type-check (tsc --noEmit)", bin("typescript", "tsc"), ["--noEmit", "-p", plugin]);
  }
  console.log("    bundle (esbuild)");
  const esbuild = await importPackage("esbuild");
  const bundle = join(plugin, "dist", "bundle.js");
  mkdirSync(dirname(bundle), { recursive: true });
  await esbuild.build({
    entryPoints: [s.entry],
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
    witPath: witDir(),
    worldName: s.world,
    // `fetch` stays available: the host routes wasi:http through its pipeline.
    disableFeatures: ["fetch-event"],
  });
  mkdirSync(dirname(s.out), { recursive: true });
  writeFileSync(s.out, component);
  console.log(`    ${s.out} (${statSync(s.out).size} bytes)`);
}

const command = process.argv[2];
if (command === "types") types(settings());
else if (command === "build") await build();
else fail("usage: patchbay-js build | types");
