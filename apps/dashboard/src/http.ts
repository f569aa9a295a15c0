// The dashboard's HTTP plumbing, apart from its pages and actions: the security headers and the
// paths they cover, form fields, the one-shot flash message cookie, and safe redirect targets.
import { type AdminEnv, textProblem } from "@hookline/operations";
import type { Context } from "hono";
import type { Flash } from "./views/parts";

export const FLASH_COOKIE = "hookline_flash";
export const LIVE_HEADER = "x-hookline-live";
export const MAX_SELECTED = 500;

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join("; ");

/** Every path the dashboard answers; the security headers go on each of them and nowhere else. */
export const PATHS = [
  "/",
  "/login",
  "/logout",
  "/events",
  "/events/:id",
  "/events/:id/replay",
  "/deliveries",
  "/deliveries/retry",
  "/deliveries/:id/retry",
  "/audit",
  "/targets/:id/pause",
  "/targets/:id/resume",
  "/assets/:file",
] as const;

export type C = Context<AdminEnv>;
export type Status = 200 | 401 | 403 | 404 | 429 | 500 | 503;
export type Form = Record<string, string | File | (string | File)[]>;

/** A path on this server to go back to; anything else (another host, `//evil`) becomes `/`. */
export function localPath(value: string | undefined): string {
  if (!value || value.length > 2000) return "/";
  if (!value.startsWith("/") || value.startsWith("//") || /[\\\s]/.test(value)) return "/";
  return value;
}

/** The `:id` of the route; the wrappers below erase the path's type, so it is read by name. */
export function idParam(c: C): string {
  const id = c.req.param("id") ?? "";
  // An id no row can have (a NUL, which Postgres would refuse outright): the page is "not found".
  return textProblem(id) ? "" : id;
}

export function here(c: C): string {
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

export async function render(
  c: C,
  element: string | Promise<string>,
  status: Status = 200,
): Promise<Response> {
  return c.html(`<!doctype html>${await element}`, status);
}

export function field(form: Form, name: string): string | undefined {
  const value = form[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "string" ? first : undefined;
}

export function fields(form: Form, name: string): string[] {
  const value = form[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((v): v is string => typeof v === "string" && v !== "");
}

export function encodeFlash(flash: Flash): string {
  return Buffer.from(JSON.stringify(flash), "utf8").toString("base64url");
}

export function decodeFlash(text: string | undefined): Flash | null {
  if (!text) return null;
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Record<string, unknown>;
    if ((value.kind !== "ok" && value.kind !== "error") || typeof value.text !== "string") return null;
    const href = typeof value.href === "string" ? localPath(value.href) : undefined;
    const linkText = typeof value.linkText === "string" ? value.linkText : undefined;
    return {
      kind: value.kind,
      text: value.text.slice(0, 500),
      ...(href ? { href } : {}),
      ...(linkText ? { linkText } : {}),
    };
  } catch {
    return null;
  }
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
