// The scheme registry: one file per scheme under ./schemes, looked up by name.

import { PRESET_NAMES } from "./presets.js";
import { basicScheme } from "./schemes/basic.js";
import { bearerScheme } from "./schemes/bearer.js";
import { ecdsaScheme } from "./schemes/ecdsa.js";
import { ed25519Scheme } from "./schemes/ed25519.js";
import { hmacScheme } from "./schemes/hmac.js";
import { noneScheme } from "./schemes/none.js";
import { sharedSecretScheme } from "./schemes/shared-secret.js";
import { standardWebhooksScheme } from "./schemes/standard-webhooks.js";
import type { SchemeDefinition } from "./schemes/types.js";

/** Every scheme implementation, including `standard-webhooks`, which is only reached through presets. */
export const SCHEMES: ReadonlyMap<string, SchemeDefinition> = new Map(
  [
    hmacScheme,
    ecdsaScheme,
    ed25519Scheme,
    standardWebhooksScheme,
    sharedSecretScheme,
    basicScheme,
    bearerScheme,
    noneScheme,
  ].map((s) => [s.name, s]),
);

/** The generic schemes a config may name directly (besides the presets). */
export const GENERIC_SCHEME_NAMES: readonly string[] = [
  "hmac",
  "ecdsa",
  "ed25519",
  "shared-secret",
  "basic",
  "bearer",
  "none",
];

/** Every accepted value of `verify.scheme`: the presets, then the generic schemes. */
export const SCHEME_NAMES: readonly string[] = [...PRESET_NAMES, ...GENERIC_SCHEME_NAMES];
