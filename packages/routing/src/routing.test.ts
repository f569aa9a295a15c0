import type { RouteConfig } from "@hookline/config";
import { describe, expect, it } from "vitest";
import { routeTargets } from "./routing";

const routes: RouteConfig[] = [
  { source: "clausum", events: ["fraud.*", "case.created"], targets: ["fraud"] },
  { source: "clausum", events: ["*"], targets: ["audit", "fraud"] },
  { source: "stripe", events: ["invoice.*"], targets: ["billing"] },
];

describe("routeTargets", () => {
  it("collects every matching route's targets once, in config order", () => {
    expect(routeTargets(routes, "clausum", "fraud.detected")).toEqual(["fraud", "audit"]);
    expect(routeTargets(routes, "clausum", "payout.sent")).toEqual(["audit", "fraud"]);
    expect(routeTargets(routes, "stripe", "invoice.paid")).toEqual(["billing"]);
    expect(routeTargets(routes, "stripe", "charge.succeeded")).toEqual([]);
    expect(routeTargets(routes, "github", "push")).toEqual([]);
  });
  it("matches an event without a type only with *", () => {
    expect(routeTargets(routes, "clausum", null)).toEqual(["audit", "fraud"]);
    expect(routeTargets(routes, "stripe", null)).toEqual([]);
  });
});
