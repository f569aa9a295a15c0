import { describe, expect, it } from "vitest";
import { boundedJson, compileTransform, TransformError } from "./transform";

function compiled(expression: string, timeoutMs = 100) {
  const result = compileTransform(expression, timeoutMs);
  if (!result.ok) throw new Error(result.message);
  return result.transform;
}

const event = {
  type: "invoice.paid",
  data: { object: { id: "in_1", amount_paid: 4200, lines: [{ amount: 4000 }, { amount: 200 }] } },
};

describe("transforms", () => {
  it("sends the expression's result as JSON", async () => {
    const t = compiled(
      '{ "kind": type, "invoice": data.object.id, "cents": $sum(data.object.lines.amount) }',
    );
    expect(JSON.parse((await t.apply(event)).toString("utf8"))).toEqual({
      kind: "invoice.paid",
      invoice: "in_1",
      cents: 4200,
    });
    expect((await compiled("data.object.lines.amount").apply(event)).toString("utf8")).toBe("[4000,200]");
  });

  it("refuses an expression that does not compile, saying where", () => {
    const result = compileTransform('{ "a": data.( }', 100);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/^not a JSONata expression: S\d+: .*at character \d+/);
  });

  it("fails with transform_error when the expression errs or produces nothing", async () => {
    await expect(compiled("$number('abc') + $undefinedFunction()").apply(event)).rejects.toBeInstanceOf(
      TransformError,
    );
    const none = compiled("data.nope").apply(event);
    await expect(none).rejects.toThrow(/produced no value/);
    await expect(none).rejects.toMatchObject({ code: "transform_error" });
  });

  it("ends a runaway expression: endless recursion, a loop over its time limit, a huge sequence", async () => {
    const recursion = compiled("( $f := function($x) { $f($x + 1) + 1 }; $f(0) )", 1_000);
    await expect(recursion.apply(event)).rejects.toThrow(/^D1011: /);
    const started = performance.now();
    const loop = compiled("$sum([1..10000].($sum([1..10000])))", 50);
    await expect(loop.apply(event)).rejects.toThrow(/^D1012: Evaluation timeout after 50 milliseconds/);
    // Ended near its limit, not after the whole loop.
    expect(performance.now() - started).toBeLessThan(2_000);
    await expect(compiled("$count([1..5000000])").apply(event)).rejects.toBeInstanceOf(TransformError);
  });

  it("keeps concurrent evaluations' limits apart", async () => {
    const quick = compiled("type", 1_000);
    const slow = compiled("$sum([1..10000].($sum([1..10000])))", 30);
    const [a, b] = await Promise.allSettled([slow.apply(event), quick.apply(event)]);
    expect(a.status).toBe("rejected");
    expect(b.status === "fulfilled" && b.value.toString()).toBe('"invoice.paid"');
  });

  it("refuses a result too large to send, without writing it out first", async () => {
    const big = { data: { text: "x".repeat(100_000) } };
    const amplified = compiled("[1..50000].($$.data.text)", 1_000);
    const started = performance.now();
    await expect(amplified.apply(big)).rejects.toThrow(/larger than 4 MiB of JSON/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("writes the same JSON as JSON.stringify, within its bound", () => {
    const value = { a: [1, "two", null, true, { b: 'c"d' }], e: {}, f: [], g: -1.5e-7, u: undefined };
    expect(boundedJson(value, 1_000)).toBe(JSON.stringify(value));
    expect(boundedJson([undefined, () => 1], 100)).toBe(JSON.stringify([undefined, () => 1]));
    expect(boundedJson("x".repeat(10), 5)).toBeNull();
  });
});
