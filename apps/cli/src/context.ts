import {
  applyEnvOverrides,
  formatIssues,
  type HooklineConfig,
  type HooklineEnv,
  loadConfigFile,
  parseEnv,
} from "@hookline/config";
import { Redactor } from "@hookline/redact";

/** A failure the CLI prints as is and exits with, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export function readEnv(overrides: Partial<Record<string, string>> = {}): HooklineEnv {
  const result = parseEnv({ ...process.env, ...overrides });
  if (!result.ok) throw new CliError(`invalid environment:\n${formatIssues(result.issues)}`);
  return result.env;
}

export function readConfig(env: HooklineEnv, path = env.configPath): HooklineConfig {
  const result = loadConfigFile(path, process.env);
  if (!result.ok)
    throw new CliError(`${path} is not a valid Hookline config:\n${formatIssues(result.issues)}`);
  return applyEnvOverrides(result.config, env);
}

/**
 * What stored data may show, as the admin API and the dashboard show it. Reading stored events
 * must work on a machine without the config file, so without one only the admin token is cut.
 */
export function readRedactor(env: HooklineEnv): Redactor {
  let config: HooklineConfig;
  try {
    config = readConfig(env);
  } catch {
    return new Redactor(env.adminToken ? [env.adminToken] : []);
  }
  return Redactor.fromConfig(config, env.adminToken);
}
