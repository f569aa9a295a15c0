export { displayUrl, REDACTED, Redactor } from "@hookline/redact";
export { localPath } from "./http";
export { type DashboardDeps, mountDashboard } from "./mount";
export { fromSameOrigin, SESSION_COOKIE, SESSION_TTL_MS, type SessionStore, Sessions } from "./session";
