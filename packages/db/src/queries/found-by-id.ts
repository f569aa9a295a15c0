// Conditions on a delivery row that a statement has already found by its id. Written so the
// planner cannot serve them from an index: how many deliveries are live or held swings from none
// to tens of thousands within seconds, and statistics taken while there were none made Postgres
// read deliveries_status_updated_idx or deliveries_held_idx whole, for every statement, instead
// of looking each row up by id (test/ordering-plans.test.ts shows the plans). `IS TRUE` over the
// condition keeps its meaning (a row with a null there never matches) and hides it from indexes.

/** The delivery `d` is live: pending or retrying. */
export const IS_LIVE = (d: string) => `(${d}.status in ('pending', 'retrying')) is true`;

/** The delivery `d` is held for its turn, and nothing else has happened to it. */
export const IS_HELD = (d: string) => `(${d}.held and ${d}.status = 'pending') is true`;

/** The delivery `d` is live and not held: what a queued or inline attempt may open. */
export const IS_LIVE_NOT_HELD = (d: string) =>
  `(${d}.status in ('pending', 'retrying') and not ${d}.held) is true`;
