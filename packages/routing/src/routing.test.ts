import type { RouteConfig } from "@hookline/config";
import { compileMatch, type Matcher } from "@hookline/filter";
import { describe, expect, it } from "vitest";
import { routableEvent } from "./event";
import { orderingKey, scalarAt } from "./ordering-key";
import { routeEvent, routeMiss, routeTargets } from "./routing";

const event = (
  sourceId: string,
  eventType: string | null,
  body = "{}",
  headers: Record<string, string> = {},
) => routableEvent({ sourceId, eventType, headers, body: Buffer.from(body) });
const match = (spec: unknown, lowerCaseFields = false): Matcher => {
  const result = compileMatch(spec, { lowerCaseFields });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.match;
};

const byCustomer = { kind: "body", pointer: "/data/customer", tokens: ["data", "customer"] } as const;
const routes: RouteConfig[] = [
  {
    source: "clausum",
    events: ["fraud.*", "case.created"],
    targets: ["fraud"],
    orderingKey: byCustomer,
    filter: null,
    transform: null,
  },
  {
    source: "clausum",
    events: ["*"],
    targets: ["audit", "fraud"],
    orderingKey: null,
    filter: null,
    transform: null,
  },
  {
    source: "stripe",
    events: ["invoice.*"],
    targets: ["billing"],
    orderingKey: null,
    filter: null,
    transform: null,
  },
];

describe("routeTargets", () => {
  it("collects every matching route's targets once, in config order", () => {
    expect(routeTargets(routes, event("clausum", "fraud.detected"))).toEqual(["fraud", "audit"]);
    expect(routeTargets(routes, event("clausum", "payout.sent"))).toEqual(["audit", "fraud"]);
    expect(routeTargets(routes, event("stripe", "invoice.paid"))).toEqual(["billing"]);
    expect(routeTargets(routes, event("stripe", "charge.succeeded"))).toEqual([]);
    expect(routeTargets(routes, event("github", "push"))).toEqual([]);
  });
  it("matches an event without a type only with *", () => {
    expect(routeTargets(routes, event("clausum", null))).toEqual(["audit", "fraud"]);
    expect(routeTargets(routes, event("stripe", null))).toEqual([]);
  });
  it("takes a target's ordering key from the first route that names it", () => {
    expect(routeEvent(routes, event("clausum", "fraud.detected"))).toEqual([
      { targetId: "fraud", orderingKey: byCustomer, transform: null },
      { targetId: "audit", orderingKey: null, transform: null },
    ]);
    expect(routeEvent(routes, event("clausum", "payout.sent"))).toEqual([
      { targetId: "audit", orderingKey: null, transform: null },
      { targetId: "fraud", orderingKey: null, transform: null },
    ]);
  });
});

describe("route filters", () => {
  const filtered: RouteConfig[] = [
    {
      source: "stripe",
      events: ["charge.*"],
      targets: ["big"],
      orderingKey: null,
      filter: { body: match({ data: { amount: { $gte: 10_000 } } }), headers: null },
      transform: null,
    },
    {
      source: "stripe",
      events: ["*"],
      targets: ["eu"],
      orderingKey: null,
      filter: { body: null, headers: match({ "X-Region": "eu" }, true) },
      transform: null,
    },
  ];
  it("delivers an event only to the routes whose filters match it", () => {
    const big = event("stripe", "charge.succeeded", '{"data":{"amount":12000}}', { "x-region": "eu" });
    const small = event("stripe", "charge.succeeded", '{"data":{"amount":5}}', { "x-region": "us" });
    expect(routeTargets(filtered, big)).toEqual(["big", "eu"]);
    expect(routeTargets(filtered, small)).toEqual([]);
    expect(routeTargets(filtered, event("stripe", "charge.succeeded", "not json"))).toEqual([]);
  });
  it("says why a route does not take an event", () => {
    const small = event("stripe", "charge.succeeded", '{"data":{"amount":5}}', { "x-region": "us" });
    expect(routeMiss(filtered[0] as RouteConfig, small)).toBe("filter.body: data.amount: 5 is not >= 10000");
    expect(routeMiss(filtered[1] as RouteConfig, small)).toBe('filter.headers: x-region: "us" is not "eu"');
    expect(routeMiss(filtered[0] as RouteConfig, event("github", "push"))).toBe(
      "source is github, not stripe",
    );
    expect(routeMiss(filtered[0] as RouteConfig, event("stripe", "invoice.paid"))).toBe(
      'event type "invoice.paid" matches none of charge.*',
    );
    expect(routeMiss(filtered[0] as RouteConfig, event("stripe", null))).toBe(
      "event type (none) matches none of charge.*",
    );
  });
});

describe("ordering keys", () => {
  const read = (body: string, headers: Record<string, string> = {}) => {
    const e = event("s", null, body, headers);
    return (spec: Parameters<typeof orderingKey>[0]) => orderingKey(spec, e);
  };

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
