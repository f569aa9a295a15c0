#!/usr/bin/env node
// Compiles the CLI (and so every process `pnpm start` runs) to plain JavaScript in dist/, so no
// TypeScript compiler runs beside Hookline in production: tsx cost each process about 35 MB and
// an esbuild helper process. esbuild is the compiler tsx itself uses, so source and build agree.
//
//   node scripts/build.mjs             build
//   node scripts/build.mjs --if-stale  build only when a source file is newer than the build
//   node scripts/build.mjs --out DIR   build into DIR (below the repository) instead of dist/
//
// Several processes may start at once on a stale tree (`pnpm hookline gateway` and `pnpm
// hookline worker` after a pull): one builds while the others wait for its lock, then find the
// build fresh. A build is written beside the old one and swapped in by rename, so a process
// never loads half of one.
//
// Plain JavaScript on purpose: it must run on a fresh clone before anything is compiled.
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outArg = process.argv.indexOf("--out");
const OUT = outArg > 0 ? resolve(ROOT, process.argv[outArg + 1] ?? "dist") : join(ROOT, "dist");
/** What the last build read (esbuild's metafile inputs), to tell whether it is stale. */
const INPUTS = "inputs.json";
/** Read at run time next to the compiled code (apps/dashboard/src/assets.ts). */
const ASSETS = join(ROOT, "apps/dashboard/src/assets");
const LOCK = `${OUT}.lock`;
/** A lock older than this was left by a build that died: taken over. */
const STALE_LOCK_MS = 120_000;

/** Every file the last build read, and the lockfile, older than the build: nothing to do. */
function isFresh() {
  const inputsPath = join(OUT, INPUTS);
  if (!existsSync(inputsPath)) return false;
  const builtAt = statSync(inputsPath).mtimeMs;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(inputsPath, "utf8"));
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

async function lock() {
  const deadline = Date.now() + STALE_LOCK_MS + 10_000;
  for (;;) {
    try {
      closeSync(openSync(LOCK, "wx"));
      return;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
    }
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { force: true });
    } catch {
      // released meanwhile
    }
    if (Date.now() > deadline) throw new Error(`${LOCK} is held by another build`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function build() {
  const { build: esbuild } = await import("esbuild");
  const next = `${OUT}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: {
      hookline: "apps/cli/src/main.ts",
      // The lean entry point of the gateway processes `server.workers` forks.
      "gateway-process": "apps/cli/src/gateway-process.ts",
      // What the gateway's ingest thread runs (apps/gateway/src/ingest-thread.ts).
      "ingest-thread-entry": "apps/gateway/src/ingest-thread-entry.ts",
    },
    outdir: next,
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
  cpSync(ASSETS, join(next, "assets"), { recursive: true });
  writeFileSync(join(next, INPUTS), JSON.stringify(Object.keys(result.metafile.inputs), null, 0));
  // The swap: two renames, so the output is never half old and half new.
  const old = `${OUT}.old-${process.pid}`;
  if (existsSync(OUT)) renameSync(OUT, old);
  renameSync(next, OUT);
  rmSync(old, { recursive: true, force: true });
}

const ifStale = process.argv.includes("--if-stale");
if (ifStale && isFresh()) process.exit(0);
await lock();
try {
  // Another process may have built while this one waited.
  if (!(ifStale && isFresh())) {
    const started = Date.now();
    await build();
    process.stderr.write(
      `hookline: compiled to ${OUT.slice(ROOT.length + 1)}/ in ${Date.now() - started} ms\n`,
    );
  }
} finally {
  rmSync(LOCK, { force: true });
}
