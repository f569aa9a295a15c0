// Route filters: JSON matches in the style users know from Hookdeck and Convoy. Compiled once,
// when the config loads, into plain closures: a malformed filter is reported with its path, and
// evaluating one is a few property reads and comparisons. Pure: no I/O, never throws on input.
//
// A MATCH is an object whose entries must all hold. A field name matches the field's value
// against its own MATCH (the fields of a list match when one element matches them all); a scalar means
// equality (an array field matches when it contains it); an array means deep equality; an
// object of operators tests the value: $eq $neq $gt $gte $lt $lte $in $nin $startsWith
// $endsWith $contains $exist, and $or $and $not combine MATCHes of the same value.

/** Where in the filter a problem is: field names and list positions. */
export type FilterPath = readonly (string | number)[];

export interface FilterIssue {
  readonly at: FilterPath;
  readonly message: string;
}

/** Why a value did not match: the field path and what was expected of it. */
export interface Miss {
  readonly at: readonly string[];
  readonly why: string;
}

/** Null when the value matches; otherwise why not. */
export type Matcher = (value: unknown) => Miss | null;

export type CompileResult =
  | { readonly ok: true; readonly match: Matcher }
  | { readonly ok: false; readonly issues: readonly FilterIssue[] };

const OPERATORS = [
  "$eq",
  "$neq",
  "$gt",
  "$gte",
  "$lt",
  "$lte",
  "$in",
  "$nin",
  "$startsWith",
  "$endsWith",
  "$contains",
  "$exist",
  "$or",
  "$and",
  "$not",
] as const;

/**
 * Compiles a MATCH. `lowerCaseFields`: its top-level field names are lower-cased (header names
 * are matched lower-cased, as they are stored).
 */
export function compileMatch(
  spec: unknown,
  options: { readonly lowerCaseFields?: boolean } = {},
): CompileResult {
  const issues: FilterIssue[] = [];
  if (!isObject(spec)) {
    return {
      ok: false,
      issues: [{ at: [], message: `expected an object of fields and operators, got ${kind(spec)}` }],
    };
  }
  const match = compile(spec, [], issues, options.lowerCaseFields ?? false);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, match };
}

const miss = (why: string): Miss => ({ at: [], why });
const under = (field: string, m: Miss): Miss => ({ at: [field, ...m.at], why: m.why });

function compile(spec: unknown, at: FilterPath, issues: FilterIssue[], lowerCase = false): Matcher {
  if (Array.isArray(spec))
    return (v) => (jsonEquals(v, spec) ? null : miss(`${show(v)} is not ${show(spec)}`));
  if (!isObject(spec)) return equalsOrContains(spec as Scalar);
  // Operators test the value itself; fields test its fields (of one element, when it is a list).
  const operators: Matcher[] = [];
  const fields: Matcher[] = [];
  for (const [key, operand] of Object.entries(spec)) {
    if (key.startsWith("$")) {
      const op = operator(key, operand, at, issues, lowerCase);
      if (op) operators.push(op);
      continue;
    }
    const field = lowerCase ? key.toLowerCase() : key;
    fields.push(fieldMatcher(field, compile(operand, [...at, key], issues)));
  }
  const ofFields = all(fields);
  if (fields.length > 0)
    operators.push((v) => {
      if (!Array.isArray(v)) return ofFields(v);
      let first: Miss | null = null;
      for (const element of v) {
        const m = ofFields(element);
        if (!m) return null;
        first ??= m;
      }
      return miss(`no element of the list matches${first ? ` (the first: ${describeMiss(first)})` : ""}`);
    });
  return all(operators);
}

/** Every matcher holds; the first miss otherwise. */
function all(parts: readonly Matcher[]): Matcher {
  if (parts.length === 1) return parts[0] as Matcher;
  return (v) => {
    for (const part of parts) {
      const m = part(v);
      if (m) return m;
    }
    return null;
  };
}

function fieldMatcher(field: string, inner: Matcher): Matcher {
  return (v) => {
    const m = inner(isObject(v) && Object.hasOwn(v, field) ? v[field] : undefined);
    return m ? under(field, m) : null;
  };
}

type Scalar = string | number | boolean | null;

function equalsOrContains(expected: Scalar): Matcher {
  return (v) => {
    if (v === expected || (Array.isArray(v) && v.includes(expected))) return null;
    return miss(`${show(v)} is not ${show(expected)}`);
  };
}

/** Applies `test` to the value, or to any element of an array value. */
function anyOf(test: (v: unknown) => boolean): (v: unknown) => boolean {
  return (v) => (Array.isArray(v) ? v.some(test) : test(v));
}

function operator(
  key: string,
  operand: unknown,
  at: FilterPath,
  issues: FilterIssue[],
  lowerCase: boolean,
): Matcher | null {
  const wrong = (takes: string) => {
    issues.push({ at, message: `${key} takes ${takes}, got ${kind(operand)}` });
    return null;
  };
  switch (key) {
    case "$eq":
    case "$neq": {
      if (operand === undefined) return wrong("a value");
      const eq = (v: unknown) =>
        jsonEquals(v, operand) ||
        (Array.isArray(v) && !Array.isArray(operand) && v.some((e) => jsonEquals(e, operand)));
      return key === "$eq"
        ? (v) => (eq(v) ? null : miss(`${show(v)} is not ${show(operand)}`))
        : (v) => (eq(v) ? miss(`${show(v)} is ${show(operand)}`) : null);
    }
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte": {
      if (typeof operand !== "number" && typeof operand !== "string") return wrong("a number or a string");
      const symbol = { $gt: ">", $gte: ">=", $lt: "<", $lte: "<=" }[key];
      const compare = (v: unknown) => {
        if (typeof v !== typeof operand) return false;
        const a = v as number | string;
        if (key === "$gt") return a > operand;
        if (key === "$gte") return a >= operand;
        if (key === "$lt") return a < operand;
        return a <= operand;
      };
      const test = anyOf(compare);
      return (v) => (test(v) ? null : miss(`${show(v)} is not ${symbol} ${show(operand)}`));
    }
    case "$in":
    case "$nin": {
      if (!Array.isArray(operand)) return wrong("a list");
      const list = operand as unknown[];
      const found = anyOf((v) => list.some((e) => jsonEquals(v, e)));
      return key === "$in"
        ? (v) => (found(v) ? null : miss(`${show(v)} is not one of ${show(list)}`))
        : (v) => (found(v) ? miss(`${show(v)} is one of ${show(list)}`) : null);
    }
    case "$startsWith":
    case "$endsWith": {
      if (typeof operand !== "string") return wrong("a string");
      const test = anyOf(
        (v) => typeof v === "string" && (key === "$startsWith" ? v.startsWith(operand) : v.endsWith(operand)),
      );
      const words = key === "$startsWith" ? "start with" : "end with";
      return (v) => (test(v) ? null : miss(`${show(v)} does not ${words} ${show(operand)}`));
    }
    case "$contains": {
      if (operand === undefined) return wrong("a value");
      return (v) => {
        if (typeof v === "string" && typeof operand === "string" && v.includes(operand)) return null;
        if (Array.isArray(v) && v.some((e) => jsonEquals(e, operand))) return null;
        return miss(`${show(v)} does not contain ${show(operand)}`);
      };
    }
    case "$exist": {
      if (typeof operand !== "boolean") return wrong("true or false");
      return (v) =>
        (v !== undefined) === operand ? null : miss(operand ? "is missing" : `${show(v)} is present`);
    }
    case "$or":
    case "$and": {
      if (!Array.isArray(operand) || operand.length === 0) return wrong("a non-empty list of filters");
      const parts = operand.map((item, i) => {
        if (!isObject(item)) {
          issues.push({ at: [...at, key, i], message: `expected a filter object, got ${kind(item)}` });
          return () => null;
        }
        return compile(item, [...at, key, i], issues, lowerCase);
      });
      if (key === "$and") return all(parts);
      return (v) => {
        const misses: Miss[] = [];
        for (const part of parts) {
          const m = part(v);
          if (!m) return null;
          misses.push(m);
        }
        return miss(`none of $or holds (${misses.map(describeMiss).join("; ")})`);
      };
    }
    case "$not": {
      if (!isObject(operand)) return wrong("a filter object");
      const inner = compile(operand, [...at, key], issues, lowerCase);
      return (v) => (inner(v) ? null : miss("$not: the filter inside holds"));
    }
    default:
      issues.push({ at, message: `unknown operator "${key}" (known: ${OPERATORS.join(" ")})` });
      return null;
  }
}

/** `data.amount: 12 is not > 100`. */
export function describeMiss(m: Miss): string {
  return m.at.length > 0 ? `${m.at.join(".")}: ${m.why}` : m.why;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v === "string" ? "a string" : `a ${typeof v}`} (${JSON.stringify(v)})`;
}

/** A value as it appears in a reason, cut short. */
function show(v: unknown): string {
  if (v === undefined) return "missing";
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Equality of JSON values: same type, same scalars, same keys and elements. */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((e, i) => jsonEquals(e, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const bo = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(bo, k) && jsonEquals((a as Record<string, unknown>)[k], bo[k]));
}
