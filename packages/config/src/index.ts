export { clientAllowed, parseForwardedHop, resolveClientAddress } from "./client-address.js";
export { DEFAULTS } from "./defaults.js";
export {
  applyEnvOverrides,
  ENV_DEFAULTS,
  LOG_LEVELS,
  MIN_ADMIN_TOKEN_LENGTH,
  type ParseEnvResult,
  parseEnv,
} from "./env.js";
export { type Env, type ExpandResult, expandEnv } from "./expand.js";
export { type LoadOptions, loadConfigFile, loadConfigText } from "./load.js";
export { normaliseIp, parseCidr } from "./network.js";
export { type FormatIssuesOptions, formatIssues, formatPath } from "./paths.js";
export { ENV_ADMIN_TOKEN_NAME } from "./sections.js";
export { PrivateKeyPem } from "./tls.js";
export type * from "./types.js";
export { parseByteSize, parseDuration, parseRateLimit } from "./units.js";
