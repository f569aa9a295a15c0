import { HTTPException } from "hono/http-exception";

/** Every answer the admin API gives other than success, with its status. Stable: docs/admin-api.md. */
export const ADMIN_ERROR_STATUS = {
  unauthorized: 401,
  forbidden: 403,
  admin_api_disabled: 503,
  not_found: 404,
  event_not_found: 404,
  delivery_not_found: 404,
  target_not_found: 404,
  invalid_parameter: 400,
  invalid_cursor: 400,
  invalid_body: 400,
  body_too_large: 413,
  too_many_failures: 429,
  unknown_target: 400,
  delivery_succeeded: 409,
  target_not_configured: 409,
  transform_failed: 409,
  queue_unavailable: 503,
  internal_error: 500,
} as const satisfies Record<string, 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503>;

export type AdminErrorCode = keyof typeof ADMIN_ERROR_STATUS;

export interface AdminErrorBody {
  readonly code: AdminErrorCode;
  readonly message: string;
  readonly request_id: string;
}

/** The one error type of the admin API: a code from the enum, its status, a message for people. */
export class AdminError extends HTTPException {
  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(ADMIN_ERROR_STATUS[code], { message });
    this.name = "AdminError";
  }
}
