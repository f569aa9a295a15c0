export { displayUrl, REDACTED, Redactor } from "@hookline/redact";
export { type DashboardDeps, localPath, mountDashboard } from "./mount";
export { fromSameOrigin, SESSION_COOKIE, SESSION_TTL_MS, type SessionStore, Sessions } from "./session";
