// Route transforms: a JSONata expression over the event's body, compiled when the config loads,
// evaluated per delivery under jsonata's own guardrails, so that no expression can stall a
// worker or exhaust its memory: a time limit per evaluation (checked at every step), a maximum
// nesting depth (runaway recursion) and a maximum sequence length (`[1..10000000]`).
import jsonata from "jsonata";

/** Deepest nesting of steps an evaluation may reach. */
const MAX_DEPTH = 500;
/** Longest sequence an evaluation may build (a range, a mapped list). */
const MAX_SEQUENCE = 100_000;
/**
 * Largest result sent, in bytes of JSON. The time limit ends the evaluation, not the
 * serialisation after it: a list of 100,000 references to one large string is quick to build
 * and would take gigabytes to write out.
 */
export const MAX_RESULT_BYTES = 4 * 1024 * 1024;

/** JSON text of `value`, or null once it would pass `max` characters (checked as it is written). */
export function boundedJson(value: unknown, max: number): string | null {
  const parts: string[] = [];
  let size = 0;
  const push = (text: string) => {
    size += text.length;
    if (size > max) throw RESULT_TOO_LARGE;
    parts.push(text);
  };
  const write = (v: unknown): void => {
    if (v === null || typeof v === "number" || typeof v === "boolean" || typeof v === "string") {
      push(JSON.stringify(v) ?? "null");
      return;
    }
    if (Array.isArray(v)) {
      push("[");
      v.forEach((item, i) => {
        if (i > 0) push(",");
        write(item === undefined || typeof item === "function" ? null : item);
      });
      push("]");
      return;
    }
    if (typeof v === "object") {
      push("{");
      let first = true;
      for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
        if (item === undefined || typeof item === "function") continue;
        push(`${first ? "" : ","}${JSON.stringify(key)}:`);
        first = false;
        write(item);
      }
      push("}");
      return;
    }
    push("null"); // functions and the like, as JSON.stringify writes them in a list
  };
  try {
    write(value);
  } catch (error) {
    if (error === RESULT_TOO_LARGE) return null;
    throw error;
  }
  return parts.join("");
}
const RESULT_TOO_LARGE = Symbol("result too large");

/** Why a transform produced nothing to send: `transform_error` on the delivery. */
export class TransformError extends Error {
  readonly code = "transform_error";
  constructor(message: string) {
    super(message);
    this.name = "TransformError";
  }
}

export interface CompiledTransform {
  readonly expression: string;
  readonly timeoutMs: number;
  /** The expression's result for `input`, as JSON bytes; rejects with a TransformError. */
  apply(input: unknown): Promise<Buffer>;
}

export type CompileTransformResult =
  | { readonly ok: true; readonly transform: CompiledTransform }
  | { readonly ok: false; readonly message: string };

interface JsonataError {
  readonly code?: string;
  readonly message?: string;
  readonly position?: number;
}

function describe(error: unknown): string {
  const e = error as JsonataError | undefined;
  const where = typeof e?.position === "number" && e.position > 0 ? ` (at character ${e.position})` : "";
  return `${e?.code ? `${e.code}: ` : ""}${e?.message ?? String(error)}${where}`;
}

export function compileTransform(expression: string, timeoutMs: number): CompileTransformResult {
  let compiled: ReturnType<typeof jsonata>;
  try {
    compiled = jsonata(expression, { timeout: timeoutMs, stack: MAX_DEPTH, sequence: MAX_SEQUENCE });
  } catch (error) {
    return { ok: false, message: `not a JSONata expression: ${describe(error)}` };
  }
  return {
    ok: true,
    transform: {
      expression,
      timeoutMs,
      async apply(input) {
        let result: unknown;
        try {
          result = await compiled.evaluate(input);
        } catch (error) {
          throw new TransformError(describe(error));
        }
        if (result === undefined || typeof result === "function")
          throw new TransformError("the expression produced no value for this event");
        const text = boundedJson(result, MAX_RESULT_BYTES);
        if (text === null)
          throw new TransformError(`the result is larger than ${MAX_RESULT_BYTES / 1024 / 1024} MiB of JSON`);
        return Buffer.from(text, "utf8");
      },
    },
  };
}
