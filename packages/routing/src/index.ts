export { routeTargets } from "./routing";
