import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CompileResult, compileMatch, describeMiss, jsonEquals, type Matcher } from "./filter";

function compiled(spec: unknown, options?: { lowerCaseFields?: boolean }): Matcher {
  const result = compileMatch(spec, options);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.match;
}

const issues = (spec: unknown): string[] => {
  const result: CompileResult = compileMatch(spec);
  return result.ok
    ? []
    : result.issues.map((i) => (i.at.length > 0 ? `${i.at.join(".")}: ${i.message}` : i.message));
};

const event = {
  type: "charge.succeeded",
  livemode: false,
  data: {
    amount: 12_999,
    currency: "eur",
    customer: { id: "cus_1", tier: "gold" },
    tags: ["vip", "eu"],
    items: [
      { sku: "A-1", qty: 2 },
      { sku: "B-7", qty: 1 },
    ],
    refunded: null,
  },
};

describe("filters", () => {
  it.each([
    ["a scalar is equality", { type: "charge.succeeded" }, true],
    ["a scalar that differs", { type: "charge.failed" }, false],
    ["nested objects match nested fields", { data: { customer: { tier: "gold" } } }, true],
    ["a scalar on an array field is contains", { data: { tags: "vip" } }, true],
    ["... and fails when absent", { data: { tags: "us" } }, false],
    ["an array is deep equality", { data: { tags: ["vip", "eu"] } }, true],
    ["... order matters", { data: { tags: ["eu", "vip"] } }, false],
    ["fields of array elements: any element", { data: { items: { sku: "B-7" } } }, true],
    ["... all conditions on one element", { data: { items: { sku: "B-7", qty: 2 } } }, false],
    ["null matches null", { data: { refunded: null } }, true],
    ["false is not missing", { livemode: false }, true],
    ["$eq", { data: { currency: { $eq: "eur" } } }, true],
    ["$neq", { data: { currency: { $neq: "eur" } } }, false],
    ["$neq on a missing field", { data: { nope: { $neq: "x" } } }, true],
    ["$gt", { data: { amount: { $gt: 10_000 } } }, true],
    ["$gte boundary", { data: { amount: { $gte: 12_999 } } }, true],
    ["$lt", { data: { amount: { $lt: 100 } } }, false],
    ["$lte boundary", { data: { amount: { $lte: 12_999 } } }, true],
    ["$gt never compares a number with a string", { data: { amount: { $gt: "1" } } }, false],
    ["$gt on strings (ISO dates)", { type: { $gt: "charge.a" } }, true],
    ["$gt on an array: any element", { data: { items: { qty: { $gt: 1 } } } }, true],
    ["$in", { data: { currency: { $in: ["usd", "eur"] } } }, true],
    ["$in with an array field: any element", { data: { tags: { $in: ["eu"] } } }, true],
    ["$nin", { data: { currency: { $nin: ["usd", "eur"] } } }, false],
    ["$startsWith", { type: { $startsWith: "charge." } }, true],
    ["$endsWith", { type: { $endsWith: ".failed" } }, false],
    ["$contains on a string", { type: { $contains: "succ" } }, true],
    ["$contains on an array", { data: { tags: { $contains: "eu" } } }, true],
    ["$contains an object in an array", { data: { items: { $contains: { sku: "A-1", qty: 2 } } } }, true],
    ["$exist true", { data: { customer: { $exist: true } } }, true],
    ["$exist false on a present field", { data: { customer: { $exist: false } } }, false],
    ["$exist false on a missing field", { data: { coupon: { $exist: false } } }, true],
    ["$or", { $or: [{ type: "x" }, { data: { amount: { $gt: 5 } } }] }, true],
    ["$or of none", { $or: [{ type: "x" }, { type: "y" }] }, false],
    ["$and", { $and: [{ type: { $startsWith: "charge" } }, { livemode: false }] }, true],
    ["$not", { $not: { type: "charge.succeeded" } }, false],
    ["$or on a field", { data: { amount: { $or: [{ $lt: 10 }, { $gt: 10_000 }] } } }, true],
    ["operators together: all must hold", { data: { amount: { $gt: 100, $lt: 200 } } }, false],
    ["an empty filter matches everything", {}, true],
    ["a field of a scalar is missing", { type: { inner: 1 } }, false],
  ])("%s", (_name, spec, expected) => {
    expect(compiled(spec)(event) === null).toBe(expected);
  });

  it("says why a value did not match, with its path", () => {
    const m = compiled({ data: { amount: { $gt: 20_000 } } })(event);
    expect(m && describeMiss(m)).toBe("data.amount: 12999 is not > 20000");
    const nested = compiled({ data: { customer: { tier: { $in: ["silver"] } } } })(event);
    expect(nested && describeMiss(nested)).toBe('data.customer.tier: "gold" is not one of ["silver"]');
    const missing = compiled({ data: { coupon: { $exist: true } } })(event);
    expect(missing && describeMiss(missing)).toBe("data.coupon: is missing");
  });

  it("matches header names lower-cased, at every level of $or", () => {
    const headers = { "x-shop-id": "eu-42", "content-type": "application/json" };
    expect(compiled({ "X-Shop-Id": { $startsWith: "eu-" } }, { lowerCaseFields: true })(headers)).toBeNull();
    expect(
      compiled({ $or: [{ "X-Other": "1" }, { "X-Shop-Id": "eu-42" }] }, { lowerCaseFields: true })(headers),
    ).toBeNull();
  });

  it("never reads inherited properties", () => {
    expect(compiled({ constructor: { $exist: true } })({})).not.toBeNull();
    expect(compiled(JSON.parse('{"__proto__":{"$exist":true}}'))(JSON.parse('{"a":1}'))).not.toBeNull();
  });

  it("reports every malformed part with its path", () => {
    expect(
      issues({
        data: { amount: { $gtx: 5 }, currency: { $in: "eur" } },
        type: { $gt: { a: 1 } },
        $or: [],
        $and: [{ a: { $exist: "yes" } }, 3],
        $not: [1],
      }),
    ).toEqual([
      'data.amount: unknown operator "$gtx" (known: $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $contains $exist $or $and $not)',
      'data.currency: $in takes a list, got a string ("eur")',
      "type: $gt takes a number or a string, got an object",
      "$or takes a non-empty list of filters, got a list",
      '$and.0.a: $exist takes true or false, got a string ("yes")',
      "$and.1: expected a filter object, got a number (3)",
      "$not takes a filter object, got a list",
    ]);
    expect(issues("type = x")).toEqual([
      'expected an object of fields and operators, got a string ("type = x")',
    ]);
    expect(issues(null)).toEqual(["expected an object of fields and operators, got null"]);
  });

  it("never throws, whatever the filter and the value", () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    const op = fc.constantFrom(
      "$eq",
      "$neq",
      "$gt",
      "$in",
      "$contains",
      "$exist",
      "$or",
      "$not",
      "$startsWith",
      "$zz",
    );
    const spec = fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), op), json, { maxKeys: 4 });
    fc.assert(
      fc.property(spec, json, (s, value) => {
        const result = compileMatch(s);
        if (result.ok) result.match(value);
      }),
      { numRuns: 2_000 },
    );
  });

  it("compares JSON values deeply", () => {
    expect(jsonEquals({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(jsonEquals({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEquals([1], { 0: 1 })).toBe(false);
    expect(jsonEquals(null, {})).toBe(false);
  });
});
