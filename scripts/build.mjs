#!/usr/bin/env node
// Compiles the CLI (and so every process `pnpm start` runs) to plain JavaScript in dist/, so no
// TypeScript compiler runs beside Hookline in production: tsx cost each process about 35 MB and
// an esbuild helper process. esbuild is the compiler tsx itself uses, so source and build agree.
//
//   node scripts/build.mjs             build
//   node scripts/build.mjs --if-stale  build only when a source file is newer than the build
//
// Plain JavaScript on purpose: it must run on a fresh clone before anything is compiled.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "dist");
/** What the last build read (esbuild's metafile inputs), to tell whether it is stale. */
const INPUTS = join(OUT, "inputs.json");
/** Read at run time next to the compiled code (apps/dashboard/src/assets.ts). */
const ASSETS = join(ROOT, "apps/dashboard/src/assets");

/** Every file the last build read, and the lockfile, older than the build: nothing to do. */
function isFresh() {
  if (!existsSync(INPUTS)) return false;
  const builtAt = statSync(INPUTS).mtimeMs;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(INPUTS, "utf8"));
  } catch {
    return false;
  }
  // A file added since is imported by a file that changed, so the list of old inputs suffices.
  const watched = [...inputs, "pnpm-lock.yaml", "scripts/build.mjs", "apps/dashboard/src/assets"];
  for (const file of watched) {
    const path = join(ROOT, file);
    if (!existsSync(path) || statSync(path).mtimeMs > builtAt) return false;
  }
  return true;
}

async function build() {
  const { build: esbuild } = await import("esbuild");
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: {
      hookline: "apps/cli/src/main.ts",
      // The lean entry point of the gateway processes `server.workers` forks.
      "gateway-process": "apps/cli/src/gateway-process.ts",
    },
    outdir: OUT,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    // Commands are imported when run, so each process loads only what it runs.
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    jsx: "automatic",
    jsxImportSource: "hono/jsx",
    // Everything, npm packages included, goes in the bundle, so the image needs no node_modules.
    // pg's optional native binding is never used.
    external: ["pg-native"],
    // The CommonJS packages in the bundle (pg, ioredis, pino, ...) call require() and read
    // __dirname, which ES modules do not have.
    banner: {
      js: [
        'import { createRequire as __hooklineRequire } from "node:module";',
        'import { fileURLToPath as __hooklinePath } from "node:url";',
        "const require = __hooklineRequire(import.meta.url);",
        "const __filename = __hooklinePath(import.meta.url);",
        'const __dirname = __hooklinePath(new URL(".", import.meta.url));',
      ].join("\n"),
    },
    metafile: true,
    logLevel: "warning",
    legalComments: "linked",
  });
  cpSync(ASSETS, join(OUT, "assets"), { recursive: true });
  writeFileSync(INPUTS, JSON.stringify(Object.keys(result.metafile.inputs), null, 0));
}

const ifStale = process.argv.includes("--if-stale");
if (ifStale && isFresh()) process.exit(0);
const started = Date.now();
await build();
process.stderr.write(`hookline: compiled to dist/ in ${Date.now() - started} ms\n`);
