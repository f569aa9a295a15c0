// The front door: the config files shipped in the repository must load on a fresh clone,
// with nothing set in the environment (`pnpm start` and `pnpm dev` depend on it).
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatIssues, loadConfigFile } from "./index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

describe.each(["hookline.yaml", "hookline.example.yaml"])("%s", (file) => {
  const result = loadConfigFile(`${root}${file}`, {});

  it("loads with an empty environment", () => {
    expect(result.ok ? "" : formatIssues(result.issues)).toBe("");
  });

  it("has the seeded providers, the demo sink and the fraud route", () => {
    if (!result.ok) return;
    const { config } = result;
    expect(config.sources.map((source) => source.id)).toEqual(
      expect.arrayContaining(["clausum", "clarion", "klariqo", "creditclaw", "acme", "stripe", "github"]),
    );
    expect(config.targets.find((target) => target.id === "demo-sink")?.url).toBe(
      "http://127.0.0.1:9999/sink",
    );
    expect(config.targets.find((target) => target.id === "fraud-service")?.url).toBe(
      "http://127.0.0.1:9999/fraud",
    );
    for (const source of config.sources) {
      expect(
        config.routes.some((route) => route.source === source.id && route.targets.includes("demo-sink")),
      ).toBe(true);
    }
    const fraud = config.routes.find((r) => r.targets.includes("fraud-service"));
    expect(fraud).toMatchObject({
      source: "clausum",
      events: ["fraud.*", "case.created"],
      targets: ["fraud-service"],
    });
  });

  it("takes secrets from the environment when set", () => {
    const env = { CLAUSUM_SECRET: "from-the-environment" };
    const loaded = loadConfigFile(`${root}${file}`, env);
    const clausum = loaded.ok ? loaded.config.sources.find((source) => source.id === "clausum") : undefined;
    expect(clausum?.spec.verify.secrets).toEqual(["from-the-environment"]);
  });
});
