import type { RouteConfig } from "@hookline/config";
import { matchGlob } from "@hookline/verify";

/**
 * The targets an event goes to: every route of its source whose globs match its type, each
 * target once, in config order. An event without a type only matches `*`.
 */
export function routeTargets(
  routes: readonly RouteConfig[],
  sourceId: string,
  eventType: string | null,
): string[] {
  const targets: string[] = [];
  for (const route of routes) {
    if (route.source !== sourceId) continue;
    if (!route.events.some((glob) => matchGlob(glob, eventType ?? ""))) continue;
    for (const t of route.targets) if (!targets.includes(t)) targets.push(t);
  }
  return targets;
}
