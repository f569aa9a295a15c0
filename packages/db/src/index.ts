export {
  connectDatabase,
  createDatabaseFromTemplate,
  type Database,
  type Db,
  dropDatabase,
  ensureDatabase,
  type Queryable,
  splitDatabaseUrl,
  transaction,
} from "./client";
export { decodeCursor, encodeCursor, type PageCursor } from "./cursor";
export { fanoutDeliveryId, type IdPrefix, newId } from "./ids";
export { MIGRATIONS_FOLDER, type MigrateOutcome, migrateDatabase } from "./migrate";
export {
  boundId,
  type ConvertOptions,
  type ConvertReport,
  convertToPartitioned,
  DEFAULT_AHEAD,
  type DropOptions,
  type DropReport,
  dropExpiredPartitions,
  ensurePartitions,
  listPartitions,
  type MaintainOptions,
  type MaintainReport,
  maintainPartitions,
  nextBoundary,
  PARTITIONED_TABLES,
  type PartitionedTable,
  type PartitionInfo,
  type PartitionPeriod,
  partitionedTables,
  periodStart,
} from "./partitioning";
export {
  type BulkRetryOptions,
  countDeliveries,
  createReplayDeliveries,
  DEFAULT_PAGE_SIZE,
  type DeliveryCounts,
  type DeliveryDetail,
  type DeliveryFilters,
  type DeliveryListFilters,
  type EventFilters,
  type EventSummary,
  getDeliveryDetail,
  getEventRouting,
  InvalidCursorError,
  isDeliveryStatus,
  listDeliveries,
  listEvents,
  MAX_PAGE_SIZE,
  type Page,
  type QueuedRun,
  type RetryDeliveryOutcome,
  retryDeliveries,
  retryDelivery,
} from "./queries/admin";
export {
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditActor,
  type AuditEntry,
  type AuditFilters,
  type AuditHook,
  type AuditRow,
  BatchAuditRow,
  insertAudit,
  isAuditAction,
  listAudit,
} from "./queries/audit";
export {
  getEventTypes,
  getOverview,
  getTargetHealth,
  type Overview,
  type TargetHealth,
  type WindowCount,
} from "./queries/dashboard";
export {
  type AttemptResult,
  closeAttempt,
  closeAttempts,
  isNotDue,
  type NotDue,
  type OpenedAttempt,
  type OpenRequest,
  type OpenResult,
  openAttempt,
  openAttempts,
  postponeDelivery,
} from "./queries/delivery";
export {
  type DeliveryBody,
  type DeliveryRef,
  type FirstAttemptPlan,
  type IngestInput,
  type IngestOutcome,
  recordIngestedEvent,
  recordIngestedEvents,
  TRANSFORM_ERROR,
} from "./queries/ingest";
export {
  countIngestFailures,
  type IngestFailure,
  listIngestFailures,
  type SetAside,
  setAsideIngest,
} from "./queries/ingest-failures";
export {
  type HeadCandidate,
  heldHeads,
  heldHeadsByKey,
  type ReleaseRequest,
  type ReleaseResult,
  releaseHeads,
} from "./queries/ordering";
export {
  type AttemptRow,
  type DeliveryRow,
  type EventDetail,
  type EventRow,
  getEventDetail,
} from "./queries/read";
export {
  dueLiveDeliveries,
  failRemovedTargetDeliveries,
  type LiveDelivery,
  type RemovedTargetDelivery,
  type SweepPosition,
  TARGET_REMOVED,
} from "./queries/reconcile";
export { type PurgeCounts, type PurgeOptions, type PurgeTable, purgeOlderThan } from "./queries/retention";
export { sentContent } from "./queries/sent-body";
export {
  deleteEndedSessions,
  deleteSession,
  findSession,
  insertSession,
  type StoredSession,
} from "./queries/sessions";
export {
  DURATION_BOUNDS_MS,
  type FoldResult,
  foldStats,
  histogramQuantile,
  STATS_BUCKET_MINUTES,
} from "./queries/stats";
export {
  setTargetPaused,
  type TargetBacklog,
  type TargetState,
  targetBacklogs,
  targetStates,
} from "./queries/targets";
export * from "./schema/index";
