export * from "@hookline/operations";
export {
  type AdminAppDeps,
  createAdminApp,
  requireAdminToken,
} from "./app";
export {
  type AdminServerOptions,
  type MetricsServerOptions,
  type RunningAdminServer,
  startAdminServer,
  startMetricsServer,
} from "./server";
