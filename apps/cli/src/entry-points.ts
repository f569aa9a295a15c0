import { fileURLToPath } from "node:url";

/**
 * The file `server.workers` forks for each gateway process: the TypeScript source under tsx
 * (`pnpm dev`, the tests), or its compiled twin beside the bundle (scripts/build.mjs puts every
 * chunk in dist/, so this module's own URL tells which one is running).
 */
export function gatewayProcessEntry(): string {
  const compiled = !import.meta.url.endsWith(".ts");
  return fileURLToPath(new URL(compiled ? "./gateway-process.mjs" : "./gateway-process.ts", import.meta.url));
}
