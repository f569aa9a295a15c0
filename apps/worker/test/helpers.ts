import { clausumConfig, type Sink } from "@hookline/testkit";

export { CLAUSUM_SECRET, clausumBody } from "@hookline/testkit";
export const SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** A config with one Clausum source routed by event-type globs to the given sinks. */
export function spineConfig(
  targets: Record<string, { sink: Sink; path?: string; extra?: string; retry?: string }>,
  routes: string,
): string {
  const targetYaml = Object.entries(targets)
    .map(
      ([id, t]) => `  - id: ${id}
    url: ${t.sink.url}${t.path ?? `/${id}`}
    timeout: 2s
    retry: { schedule: ${t.retry ?? "[100ms, 100ms, 100ms]"} }
    signing_secret: "${SIGNING_SECRET}"
${t.extra ?? ""}`,
    )
    .join("\n");
  return clausumConfig(targetYaml, routes);
}
