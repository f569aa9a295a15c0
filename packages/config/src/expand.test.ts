// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { describe, expect, it } from "vitest";
import { expandEnv } from "./index.js";

describe("expandEnv", () => {
  const env = { SECRET: "s3cr3t: #not-yaml", EMPTY: "", PORT: "9000" };

  it("expands ${VAR}", () => {
    expect(expandEnv("Bearer ${SECRET}", env)).toEqual({ ok: true, value: "Bearer s3cr3t: #not-yaml" });
  });

  it("uses the default when the variable is unset or empty", () => {
    expect(expandEnv("${NOPE:-fallback}", env)).toEqual({ ok: true, value: "fallback" });
    expect(expandEnv("${EMPTY:-fallback}", env)).toEqual({ ok: true, value: "fallback" });
    expect(expandEnv("${PORT:-8080}", env)).toEqual({ ok: true, value: "9000" });
    expect(expandEnv("${NOPE:-}", env)).toEqual({ ok: true, value: "" });
  });

  it("keeps a set-but-empty variable without a default", () => {
    expect(expandEnv("x${EMPTY}y", env)).toEqual({ ok: true, value: "xy" });
  });

  it("reports an unset variable", () => {
    expect(expandEnv("${CLAUSUM_SECRET}", {})).toEqual({
      ok: false,
      errors: ["environment variable CLAUSUM_SECRET is not set"],
    });
  });

  it("treats $${ as a literal ${ and leaves other dollars alone", () => {
    expect(expandEnv("$${SECRET}", env)).toEqual({ ok: true, value: "${SECRET}" });
    expect(expandEnv("$2b$10$abc $SECRET $$", env)).toEqual({ ok: true, value: "$2b$10$abc $SECRET $$" });
  });

  it("expands several references and keeps the text between them", () => {
    expect(expandEnv("a-${PORT}-${NOPE:-b}-c", env)).toEqual({ ok: true, value: "a-9000-b-c" });
  });

  it("rejects malformed references", () => {
    expect(expandEnv("${", env).ok).toBe(false);
    expect(expandEnv("${1BAD}", env).ok).toBe(false);
    expect(expandEnv("${}", env).ok).toBe(false);
  });
});
