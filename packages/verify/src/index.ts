// @hookline/verify: pure webhook verification (no I/O, injected clock, never throws on a
// request). See README.md for the scheme catalogue and the reason codes.

export { storableKey } from "./bytes.js";
export { dedupeKeyOfBody } from "./extract.js";
export { matchGlob } from "./glob.js";
export { CLARION_PUBLIC_KEY, PRESET_NAMES } from "./presets.js";
export { SCHEME_NAMES } from "./registry.js";
export { signStandardWebhooks, validateStandardWebhooksSecret } from "./schemes/standard-webhooks.js";
export type * from "./types.js";
export { createVerifier, signRequest } from "./verifier.js";
