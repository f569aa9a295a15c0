// The dashboard's static files, read once from the package and served under content-hashed names:
// they can be cached for ever, and the page works with no network but the admin port.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Assets } from "./views/parts";

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

export interface AssetTable {
  /** The URL of each file, as the pages link it. */
  readonly urls: Assets;
  /** By URL path. */
  readonly byPath: ReadonlyMap<string, Asset>;
}

export function loadAssets(): AssetTable {
  const byPath = new Map<string, Asset>();
  const add = (file: string, type: string): string => {
    const body = readFileSync(new URL(`./assets/${file}`, import.meta.url));
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 10);
    const dot = file.lastIndexOf(".");
    const path = `/assets/${file.slice(0, dot)}.${hash}${file.slice(dot)}`;
    byPath.set(path, { body, type });
    return path;
  };
  const urls: Assets = {
    css: add("dashboard.css", "text/css; charset=utf-8"),
    js: add("dashboard.js", "text/javascript; charset=utf-8"),
    icon: add("icon.svg", "image/svg+xml"),
  };
  return { urls, byPath };
}
