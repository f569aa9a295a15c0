export { type KeySource, MAX_ORDERING_KEY_BYTES, orderingKeyReader, scalarAt } from "./ordering-key";
export { type RoutedTarget, routeEvent, routeTargets } from "./routing";
