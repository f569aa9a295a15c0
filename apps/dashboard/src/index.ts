export { displayUrl, REDACTED, Redactor } from "@hookline/redact";
export { type DashboardDeps, localPath, mountDashboard } from "./mount";
export { fromSameOrigin, LoginThrottle, SESSION_COOKIE, SESSION_TTL_MS, Sessions } from "./session";
