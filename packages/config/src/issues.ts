// Config problems: zod's issues turned into ours (a path, a message people read, a suggestion
// for a misspelt key, no secret echoed back), and the small checks every section shares.
import type { z } from "zod";
import type { PathSegment } from "./paths.js";
import { describe } from "./schema.js";

export interface Issue {
  readonly at: readonly PathSegment[];
  readonly message: string;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function startsWith(path: readonly PathSegment[], prefix: readonly PathSegment[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// zod issues → our issues

const EXPECTED: Readonly<Record<string, string>> = {
  array: "a list",
  object: "a mapping",
  record: "a mapping",
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
};

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? Math.max(a.length, b.length);
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const normalised = key.toLowerCase().replace(/-/g, "_");
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = levenshtein(normalised, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const hint =
    best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3))
      ? ` (did you mean "${best}"?)`
      : "";
  const list = known.length > 0 ? `; expected one of: ${known.join(", ")}` : "";
  return `unknown key "${key}"${hint}${list}`;
}

/** Keys whose values may be secrets: their text never appears in a message. */
const SECRET_KEYS = new Set([
  "secrets",
  "public_key",
  "signing_secret",
  "signing_secrets",
  "headers",
  "token",
]);

function isSecretPath(path: readonly PropertyKey[] | undefined): boolean {
  return path?.some((segment) => typeof segment === "string" && SECRET_KEYS.has(segment)) ?? false;
}

/** Runs a zod schema and converts its issues; unknown keys become one issue per key, at the key. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  at: readonly PathSegment[],
  issues: Issue[],
): z.output<S> | undefined {
  const knownKeys = new WeakMap<object, readonly string[]>();
  const result = schema.safeParse(input, {
    reportInput: true,
    error: (issue) => {
      switch (issue.code) {
        case "unrecognized_keys": {
          const def: unknown = issue.inst?._zod.def;
          const shape = isRecord(def) && isRecord(def.shape) ? Object.keys(def.shape) : [];
          if (isRecord(issue.input)) knownKeys.set(issue.input, shape);
          return "unknown key";
        }
        case "invalid_type":
          if (issue.input === undefined) return "is required";
          return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(issue.input, isSecretPath(issue.path))}`;
        case "invalid_value":
          return `must be one of ${issue.values.map(String).join(", ")}, got ${describe(issue.input)}`;
        case "too_small":
          if (issue.origin === "array")
            return issue.minimum === 1 ? "must not be empty" : `needs at least ${issue.minimum} items`;
          if (issue.origin === "string") return "must not be empty";
          return undefined;
        default:
          return undefined;
      }
    },
  });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = [
      ...at,
      ...issue.path.map((segment) => (typeof segment === "number" ? segment : String(segment))),
    ];
    if (issue.code === "unrecognized_keys") {
      const known = isRecord(issue.input) ? (knownKeys.get(issue.input) ?? []) : [];
      for (const key of issue.keys)
        issues.push({ at: [...path, key], message: unknownKeyMessage(key, known) });
    } else {
      issues.push({ at: path, message: issue.message });
    }
  }
  return undefined;
}
