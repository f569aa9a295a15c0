// Route transforms: a JSONata expression over the event's body, compiled when the config loads,
// evaluated per delivery under jsonata's own guardrails, so that no expression can stall a
// worker or exhaust its memory: a time limit per evaluation (checked at every step), a maximum
// nesting depth (runaway recursion) and a maximum sequence length (`[1..10000000]`).
import jsonata from "jsonata";

/** Deepest nesting of steps an evaluation may reach. */
const MAX_DEPTH = 500;
/** Longest sequence an evaluation may build (a range, a mapped list). */
const MAX_SEQUENCE = 100_000;

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
        if (result === undefined) throw new TransformError("the expression produced no value for this event");
        const text = JSON.stringify(result);
        if (text === undefined) throw new TransformError("the expression produced a value that is not JSON");
        return Buffer.from(text, "utf8");
      },
    },
  };
}
