export { type DashboardDeps, localPath, mountDashboard } from "./mount";
export { displayUrl, REDACTED, Redactor } from "./redact";
export { fromSameOrigin, LoginThrottle, SESSION_COOKIE, SESSION_TTL_MS, Sessions } from "./session";
