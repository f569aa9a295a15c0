export { type RoutableEvent, routableEvent } from "./event";
export { MAX_ORDERING_KEY_BYTES, orderingKey, scalarAt } from "./ordering-key";
export { type RoutedTarget, routeEvent, routeMiss, routeTargets } from "./routing";
