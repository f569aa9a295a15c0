// Which failures to record an ingest job will not go away on a re-run. Postgres's SQLSTATE
// classes tell a data error (the same input fails the same way forever) from an outage.
import { ZodError } from "zod";

export type SetAsideReason =
  | "invalid_job"
  | "data_exception"
  | "program_limit_exceeded"
  | "integrity_violation";

/**
 * Why an error will not go away on a re-run, or null when it may (an outage: connections,
 * shutdowns, lack of resources, serialization failures and deadlocks are all retried).
 */
export function permanentReason(error: unknown): SetAsideReason | null {
  if (error instanceof ZodError) return "invalid_job";
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return null;
  if (code.startsWith("22")) return "data_exception"; // a NUL in text, invalid encoding, out of range
  if (code.startsWith("54")) return "program_limit_exceeded"; // index row size, too many columns
  if (code === "23502" || code === "23514") return "integrity_violation"; // not null, check
  return null;
}
