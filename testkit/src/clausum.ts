// The Clausum source most integration tests send through: its secret, an event body, and a
// config around it.

export const CLAUSUM_SECRET = "clausum-test-secret-0123456789abcdef";

/** A Clausum case event, as the provider sends it. */
export function clausumBody(event: string, caseId: string, timestamp = "2026-05-29T18:30:00.000Z"): string {
  return JSON.stringify({
    event,
    timestamp,
    data: { case_id: caseId, reference_number: "CLM-LX9A2B", reason: "chargeback" },
  });
}

/** A config with the one Clausum source, the given targets (YAML list items) and routes, then `extra`. */
export function clausumConfig(targetsYaml: string, routes: string, extra = ""): string {
  return `
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
${targetsYaml}
routes:
${routes}
${extra}`;
}
