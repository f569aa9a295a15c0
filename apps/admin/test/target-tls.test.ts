// A target with `tls`: the admin API shows it as any other target, and nothing of its
// certificate or key (the key's text above all) reaches an answer.
import { type RunningAdminServer, startAdminServer, type TargetJson } from "@hookline/admin";
import {
  closeAll,
  type Isolated,
  isolate,
  loadTestConfig,
  makeTestPki,
  type Stack,
  startStack,
} from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, api, CLAUSUM_SECRET } from "./helpers";

// At collection: without openssl this file fails with makeTestPki's message; nothing is skipped.
const pki = makeTestPki();
let iso: Isolated;
let stack: Stack;
let admin: RunningAdminServer;

beforeAll(async () => {
  iso = await isolate("targettls");
  const config = loadTestConfig(`
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
  - id: ledger
    url: https://127.0.0.1:1/hooks
    tls: { ca_file: "${pki.caCert}", cert_file: "${pki.clientCert}", key_file: "${pki.clientKey}" }
routes:
  - { source: clausum, targets: [ledger] }
`);
  stack = await startStack(iso, config, { withWorker: false });
  admin = await startAdminServer({ ...stack.shared, port: 0, host: "127.0.0.1", adminToken: ADMIN_TOKEN });
});

afterAll(() => closeAll(admin, stack, iso));

/** A line from the middle of a PEM file: text that only that file holds. */
const innerLine = (path: string) => {
  const line = pki.read(path).split("\n")[2] ?? "";
  expect(line.length).toBeGreaterThan(20);
  return line;
};

describe("GET /api/targets with a tls target", () => {
  it("shows the target, and none of its certificate or key", async () => {
    const list = await api(admin, "/api/targets");
    const one = await api(admin, "/api/targets/ledger");
    expect(list.status).toBe(200);
    expect(one.status).toBe(200);
    const listText = await list.text();
    const oneText = await one.text();
    expect((JSON.parse(oneText) as TargetJson).url).toBe("https://127.0.0.1:1/hooks");
    const { data } = JSON.parse(listText) as { data: TargetJson[] };
    expect(data.map((t) => t.id)).toEqual(["ledger"]);
    for (const text of [listText, oneText]) {
      expect(text).not.toContain(innerLine(pki.clientKey));
      expect(text).not.toContain(innerLine(pki.clientCert));
      expect(text).not.toContain("PRIVATE KEY");
    }
    // The admin server's own log says nothing of the key either.
    for (const line of stack.logs.lines) expect(line).not.toContain(innerLine(pki.clientKey));
  });
});
