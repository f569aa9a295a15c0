import type { ReasonCode } from "@hookline/verify";

/** Every answer the public port can give other than 202, with its status. Stable: documented in docs/reason-codes.md. */
export const GATEWAY_ERROR_STATUS = {
  unknown_source: 404,
  not_found: 404,
  method_not_allowed: 405,
  ip_not_allowed: 403,
  body_too_large: 413,
  unsupported_content_encoding: 415,
  body_timeout: 408,
  request_timeout: 408,
  malformed_request: 400,
  event_type_invalid: 422,
  event_id_invalid: 422,
  headers_too_large: 431,
  queue_unavailable: 503,
  internal_error: 500,
  signature_missing: 401,
  signature_malformed: 401,
  signature_mismatch: 401,
  timestamp_missing: 401,
  timestamp_malformed: 401,
  timestamp_out_of_tolerance: 401,
  id_missing: 401,
  secret_missing: 401,
  secret_mismatch: 401,
  credentials_missing: 401,
  credentials_malformed: 401,
  credentials_mismatch: 401,
} as const satisfies Record<string, number> & Record<ReasonCode, 401>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERROR_STATUS;

export interface ErrorBody {
  readonly code: GatewayErrorCode;
  readonly message: string;
  readonly request_id: string;
  readonly skew_seconds?: number;
}
