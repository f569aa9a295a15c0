import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigText } from "@hookline/config";
import { describe, expect, it } from "vitest";
import { formatTry, tryRoutes } from "./try-routes";

const loaded = loadConfigText(
  `
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["clausum-secret-0123456789"] }
targets:
  - { id: big, url: "http://127.0.0.1:9/big" }
  - { id: eu, url: "http://127.0.0.1:9/eu" }
routes:
  - source: clausum
    targets: [big]
    filter: { body: { data: { amount: { $gte: 100 } } } }
    ordering_key: /data/customer
  - source: clausum
    events: ["case.*"]
    targets: [eu]
    filter: { headers: { X-Region: eu } }
`,
  {},
);
if (!loaded.ok) throw new Error("config");
const config = loaded.config;
const dir = mkdtempSync(join(tmpdir(), "hookline-try-"));
const payload = (data: unknown) => {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ event: "x", timestamp: "2026-11-28T10:00:00Z", data }));
  return path;
};

describe("check-config --try", () => {
  it("names the routes a payload reaches, with its ordering key, and why not the others", () => {
    const result = tryRoutes(config, {
      payloadPath: payload({ amount: 150, customer: "cus_9" }),
      sourceId: "clausum",
      headers: ["X-Region: us", "X-Clausum-Event: case.created"],
      eventType: null,
    });
    // The event type is read where the source reads it (Clausum: the X-Clausum-Event header).
    expect(result.eventType).toBe("case.created");
    expect(result.reached).toEqual(["big"]);
    expect(formatTry(result)).toBe(
      [
        "source clausum, event type case.created",
        '  routes[0] -> big: delivered, ordering key "cus_9"',
        '  routes[1] -> eu: not delivered: filter.headers: x-region: "us" is not "eu"',
        "reaches: big",
      ].join("\n"),
    );
  });

  it("says when nothing is reached, and takes the event type it is given", () => {
    const result = tryRoutes(config, {
      payloadPath: payload({ amount: 5 }),
      sourceId: "clausum",
      headers: [],
      eventType: "fraud.detected",
    });
    expect(result.reached).toEqual([]);
    expect(formatTry(result)).toContain(
      "routes[0] -> big: not delivered: filter.body: data.amount: 5 is not >= 100",
    );
    expect(formatTry(result)).toContain("matches none of case.*");
    expect(formatTry(result)).toContain("reaches no target: the event would be kept with no deliveries");
  });

  it("refuses an unknown source, an unreadable file and a malformed header", () => {
    const base = { payloadPath: payload({}), sourceId: "clausum", headers: [], eventType: null };
    expect(() => tryRoutes(config, { ...base, sourceId: "nope" })).toThrow(/no source "nope"/);
    expect(() => tryRoutes(config, { ...base, payloadPath: join(dir, "missing.json") })).toThrow(/ENOENT/);
    expect(() => tryRoutes(config, { ...base, headers: ["no-colon"] })).toThrow(/NAME:VALUE/);
  });
});
