// What the admin API and the dashboard both do and read: one implementation for both.

export {
  type AdminPrincipal,
  AdminTokenConflictError,
  AdminTokens,
  bearerToken,
  roleAllows,
  tokenMatches,
} from "./auth";
export { AuthLimiter, type AuthLimiterSettings, clientAddress, DEFAULT_AUTH_LIMITS } from "./auth-limiter";
export type { AdminApp, AdminEnv } from "./env";
export { ADMIN_ERROR_STATUS, AdminError, type AdminErrorBody, type AdminErrorCode } from "./errors";
export {
  type Parsed,
  parseAuditParams,
  parseDeliveryFilterParams,
  parseDeliveryListParams,
  parseEventParams,
  parsePageParams,
  parseStatuses,
  parseTimeFilter,
  type RawParams,
  textProblem,
} from "./filters";
export {
  type AdminContext,
  DeliveryQueues,
  filterSummary,
  QueueUnavailableError,
  type ReplayResult,
  type RetryManyOptions,
  type RetryManyResult,
  type RetryOneResult,
  replayEvent,
  retryMany,
  retryOne,
} from "./operations";
export {
  type AttemptJson,
  type AuditJson,
  attemptJson,
  auditJson,
  bodyJson,
  type DeliveryJson,
  type DeliveryWithAttemptsJson,
  deliveryDetailJson,
  deliveryJson,
  type EventDetailAnswer,
  type EventSummaryJson,
  eventDetailJson,
  eventSummaryJson,
  type IngestFailureJson,
  ingestFailureJson,
  pageJson,
  runJson,
} from "./serialize";
export {
  getTarget,
  listTargets,
  MAX_PAUSE_REASON,
  readPauseReason,
  setPaused,
  type TargetJson,
  type TargetView,
  targetJson,
} from "./targets";
