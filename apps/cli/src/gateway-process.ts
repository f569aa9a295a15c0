// Entry point of a gateway process forked for `server.workers` > 1 (see
// commands/gateway-cluster.ts). It loads only what the gateway needs, not the whole CLI (the
// worker, the admin API), so each extra process costs less memory.
import { createLogger } from "@hookline/logger";
import { runGatewayChild } from "./commands/gateway-cluster";
import { readConfig, readEnv } from "./context";

const env = readEnv();
runGatewayChild(readConfig(env), env, createLogger({ level: env.logLevel, name: "hookline" })).then(
  () => {
    process.exitCode = 0;
  },
  (error: unknown) => {
    process.stderr.write(
      `hookline gateway process: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
