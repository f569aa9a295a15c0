import type { RouteConfig } from "@hookline/config";
import { describe, expect, it } from "vitest";
import { orderingKeyReader, scalarAt } from "./ordering-key";
import { routeEvent, routeTargets } from "./routing";

const byCustomer = { kind: "body", pointer: "/data/customer", tokens: ["data", "customer"] } as const;
const routes: RouteConfig[] = [
  { source: "clausum", events: ["fraud.*", "case.created"], targets: ["fraud"], orderingKey: byCustomer },
  { source: "clausum", events: ["*"], targets: ["audit", "fraud"], orderingKey: null },
  { source: "stripe", events: ["invoice.*"], targets: ["billing"], orderingKey: null },
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
  it("takes a target's ordering key from the first route that names it", () => {
    expect(routeEvent(routes, "clausum", "fraud.detected")).toEqual([
      { targetId: "fraud", orderingKey: byCustomer },
      { targetId: "audit", orderingKey: null },
    ]);
    expect(routeEvent(routes, "clausum", "payout.sent")).toEqual([
      { targetId: "audit", orderingKey: null },
      { targetId: "fraud", orderingKey: null },
    ]);
  });
});

describe("ordering keys", () => {
  const read = (body: string, headers: Record<string, string> = {}) =>
    orderingKeyReader({ body: Buffer.from(body), headers });

  it("reads strings, numbers and booleans at a JSON pointer", () => {
    expect(read('{"data":{"customer":"cus_1"}}')(byCustomer)).toBe("cus_1");
    expect(read('{"data":{"customer":42}}')(byCustomer)).toBe("42");
    expect(read('{"data":{"customer":true}}')(byCustomer)).toBe("true");
    expect(scalarAt({ a: [{ b: "x" }] }, ["a", "0", "b"])).toBe("x");
    expect(scalarAt({ "a/b": { "c~d": 1 } }, ["a/b", "c~d"])).toBe("1");
  });

  it("gives no key for what is missing, empty, not a scalar, or not JSON", () => {
    for (const body of [
      "{}",
      '{"data":{"customer":null}}',
      '{"data":{"customer":""}}',
      '{"data":{"customer":{"id":1}}}',
      '{"data":{"customer":[1]}}',
      '{"data":"customer"}',
      "not json",
      "",
    ])
      expect(read(body)(byCustomer)).toBeNull();
    expect(scalarAt({ a: [1] }, ["a", "01"])).toBeNull();
    expect(scalarAt({ a: [1] }, ["a", "-"])).toBeNull();
    expect(scalarAt({}, ["constructor"])).toBeNull();
    expect(scalarAt({}, ["__proto__"])).toBeNull();
  });

  it("reads a header by its lower-cased name", () => {
    expect(read("{}", { "x-shop-id": "shop-9" })({ kind: "header", name: "x-shop-id" })).toBe("shop-9");
    expect(read("{}", {})({ kind: "header", name: "x-shop-id" })).toBeNull();
  });

  it("stores a key too long to index, or holding a NUL, as its digest", () => {
    const long = "k".repeat(1000);
    const key = read(JSON.stringify({ data: { customer: long } }))(byCustomer);
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(read(JSON.stringify({ data: { customer: long } }))(byCustomer)).toBe(key);
    expect(read(JSON.stringify({ data: { customer: "a\u0000b" } }))(byCustomer)).toMatch(/^sha256:/);
  });

  it("parses the body once however many keys are read", () => {
    let parses = 0;
    const original = JSON.parse;
    JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
      parses++;
      return original(...args);
    };
    try {
      const reader = read('{"data":{"customer":"c"}}');
      reader(byCustomer);
      reader(byCustomer);
    } finally {
      JSON.parse = original;
    }
    expect(parses).toBe(1);
  });
});
