import type { OrderingKeySpec, RouteConfig } from "@hookline/config";
import { describeMiss } from "@hookline/filter";
import type { CompiledTransform } from "@hookline/transform";
import { matchGlob } from "@hookline/verify";
import type { RoutableEvent } from "./event";

/** One target an event goes to: where its ordering key is read and what is sent (the route's). */
export interface RoutedTarget {
  readonly targetId: string;
  /** Null: unordered. */
  readonly orderingKey: OrderingKeySpec | null;
  /** Null: the body as received. */
  readonly transform: CompiledTransform | null;
}

/** Why a route does not take an event, or null when it does. */
export function routeMiss(route: RouteConfig, event: RoutableEvent): string | null {
  if (route.source !== event.sourceId) return `source is ${event.sourceId}, not ${route.source}`;
  if (!route.events.some((glob) => matchGlob(glob, event.eventType ?? "")))
    return `event type ${event.eventType === null ? "(none)" : JSON.stringify(event.eventType)} matches none of ${route.events.join(", ")}`;
  if (route.filter?.headers) {
    const miss = route.filter.headers(event.headers);
    if (miss) return `filter.headers: ${describeMiss(miss)}`;
  }
  if (route.filter?.body) {
    const miss = route.filter.body(event.json());
    if (miss) return `filter.body: ${describeMiss(miss)}`;
  }
  return null;
}

/**
 * The targets an event goes to: every route of its source whose globs match its type and whose
 * filter matches it, each target once, in config order. An event without a type only matches
 * `*`. When several routes name the same target, the first one decides its ordering key and
 * its transform.
 */
export function routeEvent(routes: readonly RouteConfig[], event: RoutableEvent): RoutedTarget[] {
  const routed: RoutedTarget[] = [];
  for (const route of routes) {
    if (routeMiss(route, event) !== null) continue;
    for (const targetId of route.targets)
      if (!routed.some((r) => r.targetId === targetId))
        routed.push({ targetId, orderingKey: route.orderingKey, transform: route.transform });
  }
  return routed;
}

/** The ids of the targets `routeEvent` chooses. */
export function routeTargets(routes: readonly RouteConfig[], event: RoutableEvent): string[] {
  return routeEvent(routes, event).map((r) => r.targetId);
}
