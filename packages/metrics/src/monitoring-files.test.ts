// The ready-made alert rules and Grafana dashboard (docs/prometheus, docs/grafana) name only
// metrics Hookline exports: a renamed metric would otherwise leave an alert that never fires.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics";

const root = new URL("../../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

/** Metric names as queries use them; histogram series carry a suffix. */
function namesIn(text: string): Set<string> {
  return new Set(
    [...text.matchAll(/\bhookline_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, "")),
  );
}

describe("monitoring files", () => {
  const exported = new Set(
    createMetrics({ defaultMetrics: false })
      .registry.getMetricsAsArray()
      .map((m) => m.name),
  );

  it.each(["docs/prometheus/alerts.yml", "docs/grafana/hookline.json"])(
    "%s names only exported metrics",
    (path) => {
      const used = namesIn(read(path));
      expect(used.size).toBeGreaterThan(5);
      expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    },
  );

  it("the dashboard is a Grafana dashboard with a query in every panel", () => {
    const dashboard = JSON.parse(read("docs/grafana/hookline.json")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const panel of dashboard.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
  });
});
