// Per-event filter cost. Run: pnpm vitest bench --run packages/filter/bench
// A simple filter (one nested field and an operator) and a compound one, evaluated against an
// already parsed 1 KiB event (routing parses the body once per event, whatever the routes ask),
// beside the hand-written `if` a user would write for the same test.
import { bench, describe } from "vitest";
import { compileMatch, type Matcher } from "../src/index.js";

const event = JSON.parse(
  JSON.stringify({
    event: "fraud.detected",
    timestamp: "2026-05-29T18:30:00.000Z",
    data: {
      case_id: "b1f2c3d4",
      amount: { value: 12_999, currency: "EUR" },
      merchant: { id: "mer_4f0c2a", mcc: "5941", country: "DE" },
      tags: ["card", "chargeback", "eu"],
      notes: "x".repeat(700),
    },
  }),
);

function compiled(spec: unknown): Matcher {
  const result = compileMatch(spec);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.match;
}

const simple = compiled({ data: { amount: { value: { $gte: 10_000 } } } });
const compound = compiled({
  event: { $startsWith: "fraud." },
  data: {
    amount: { currency: { $in: ["EUR", "USD"] } },
    tags: "eu",
    $or: [{ merchant: { mcc: "5941" } }, { merchant: { country: { $nin: ["DE", "FR"] } } }],
  },
});
let matched = 0;

describe("route filter, per event", () => {
  bench("hand-written if (baseline)", () => {
    if (event.data.amount.value >= 10_000) matched++;
  });
  bench("simple filter: one nested field, $gte", () => {
    if (simple(event) === null) matched++;
  });
  bench("compound filter: $startsWith, $in, array contains, $or of nested fields", () => {
    if (compound(event) === null) matched++;
  });
  bench("compound filter that fails (builds its reason)", () => {
    if (compound({ ...event, event: "case.created" }) === null) matched++;
  });
});

// Keeps the results observable, so no run is optimised away.
export const observed = () => matched;
