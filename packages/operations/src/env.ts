// The admin port's Hono app, as the admin API builds it and the dashboard adds its pages to.
import type { Hono } from "hono";
import type { AdminPrincipal } from "./auth";

/**
 * `principal`: who an authenticated /api request acts as; `clientAddress`: from where (the
 * socket's peer, or X-Forwarded-For's client behind a trusted proxy). Both set by the token check.
 */
export type AdminEnv = { Variables: { requestId: string; principal: AdminPrincipal; clientAddress: string } };
export type AdminApp = Hono<AdminEnv>;
