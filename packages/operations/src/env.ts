// The admin port's Hono app, as the admin API builds it and the dashboard adds its pages to.
import type { Hono } from "hono";

export type AdminEnv = { Variables: { requestId: string } };
export type AdminApp = Hono<AdminEnv>;
