import type { OrderingKeySpec, RouteConfig } from "@hookline/config";
import { matchGlob } from "@hookline/verify";

/** One target an event goes to, and where its ordering key is read (null: unordered). */
export interface RoutedTarget {
  readonly targetId: string;
  readonly orderingKey: OrderingKeySpec | null;
}

/**
 * The targets an event goes to: every route of its source whose globs match its type, each
 * target once, in config order. An event without a type only matches `*`. When several routes
 * name the same target, the first one decides its ordering key.
 */
export function routeEvent(
  routes: readonly RouteConfig[],
  sourceId: string,
  eventType: string | null,
): RoutedTarget[] {
  const routed: RoutedTarget[] = [];
  for (const route of routes) {
    if (route.source !== sourceId) continue;
    if (!route.events.some((glob) => matchGlob(glob, eventType ?? ""))) continue;
    for (const targetId of route.targets)
      if (!routed.some((r) => r.targetId === targetId))
        routed.push({ targetId, orderingKey: route.orderingKey });
  }
  return routed;
}

/** The ids of the targets `routeEvent` chooses. */
export function routeTargets(
  routes: readonly RouteConfig[],
  sourceId: string,
  eventType: string | null,
): string[] {
  return routeEvent(routes, sourceId, eventType).map((r) => r.targetId);
}
