// `none`: no authentication at all. Must be written explicitly in the config.
import type { CompiledScheme, SchemeDefinition } from "./types.js";

export const noneScheme: SchemeDefinition = {
  name: "none",
  fields: [],
  compile(): CompiledScheme {
    return {
      relevantHeaders: [],
      signatureHeaders: [],
      secretHeaders: [],
      check: () => ({ ok: true, timestampMs: null, id: null }),
      sign: () => ({ ok: true, headers: {} }),
    };
  },
};
