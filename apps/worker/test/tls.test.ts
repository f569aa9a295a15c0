// targets[].tls against real HTTPS servers on loopback, with certificates the test makes with
// openssl: a private CA, a server certificate for 127.0.0.1, and client certificates for
// mutual TLS. A TLS failure is an ordinary failed attempt, with its reason, and is retried.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { connectDatabase, type Database } from "@hookline/db";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  makeTestPki,
  type Stack,
  sendSigned,
  startStack,
  type TestPki,
} from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAUSUM_SECRET, clausumBody } from "./helpers";

interface Received {
  readonly eventId: string;
  /** The client certificate's CN, when the client sent one the server accepted. */
  readonly clientName: string | null;
}

interface TlsServer {
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

async function startHttpsServer(pki: TestPki, requireClientCert: boolean): Promise<TlsServer> {
  const received: Received[] = [];
  const server: Server = createServer(
    {
      key: pki.read(pki.serverKey),
      cert: pki.read(pki.serverCert),
      ...(requireClientCert ? { ca: pki.read(pki.caCert), requestCert: true, rejectUnauthorized: true } : {}),
    },
    (req, res) => {
      req.resume();
      req.on("end", () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        received.push({
          eventId: String(req.headers["webhook-id"]),
          clientName: peer && typeof peer.subject?.CN === "string" ? peer.subject.CN : null,
        });
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      });
    },
  );
  server.on("tlsClientError", () => {}); // refused handshakes are what some tests are about
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// At collection: without openssl this file fails with makeTestPki's message; nothing is skipped.
const pki: TestPki = makeTestPki();
let iso: Isolated;
let plain: TlsServer;
let mutual: TlsServer;
let stack: Stack;
let database: Database;

beforeAll(async () => {
  iso = await isolate("tls");
  plain = await startHttpsServer(pki, false);
  mutual = await startHttpsServer(pki, true);
  const target = (id: string, server: TlsServer, tls: string | null) => `
  - id: ${id}
    url: ${server.url}/hook
    retry: { schedule: [100ms] }
    circuit_breaker: { failure_threshold: 1000 }${tls === null ? "" : `\n    tls: ${tls}`}`;
  stack = await startStack(
    iso,
    loadTestConfig(`
server: { require_https_targets: true }
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:${target("private-ca", plain, `{ ca_file: "${pki.caCert}" }`)}${target("system-roots", plain, null)}${target(
      "mtls",
      mutual,
      `{ ca_file: "${pki.caCert}", cert_file: "${pki.clientCert}", key_file: "${pki.clientKey}" }`,
    )}${target("mtls-no-cert", mutual, `{ ca_file: "${pki.caCert}" }`)}${target(
      "mtls-stranger",
      mutual,
      `{ ca_file: "${pki.caCert}", cert_file: "${pki.strangerCert}", key_file: "${pki.strangerKey}" }`,
    )}
routes:
  - { source: clausum, events: ["private-ca.*"], targets: [private-ca] }
  - { source: clausum, events: ["system-roots.*"], targets: [system-roots] }
  - { source: clausum, events: ["mtls.*"], targets: [mtls] }
  - { source: clausum, events: ["mtls-no-cert.*"], targets: [mtls-no-cert] }
  - { source: clausum, events: ["mtls-stranger.*"], targets: [mtls-stranger] }
`),
  );
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(stack, database, plain, mutual, iso));

async function send(event: string, caseId: string): Promise<string> {
  const res = await sendSigned(stack, "clausum", clausumBody(event, caseId));
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

interface Outcome {
  readonly status: string;
  readonly attemptCount: number;
  readonly errors: Array<string | null>;
  readonly statusCodes: Array<number | null>;
}

async function settled(eventId: string, targetId: string, status: "succeeded" | "failed"): Promise<Outcome> {
  const delivery = await eventually(
    async () => {
      const r = await database.pool.query<{ id: string; status: string; attempt_count: number }>(
        "select id, status, attempt_count from deliveries where event_id = $1 and target_id = $2",
        [eventId, targetId],
      );
      const d = r.rows[0];
      return d?.status === status && d;
    },
    { what: `${targetId} delivery of ${eventId} to be ${status}`, timeoutMs: 30_000 },
  );
  const attempts = await database.pool.query<{ error: string | null; status_code: number | null }>(
    "select error, status_code from delivery_attempts where delivery_id = $1 order by attempt_number",
    [delivery.id],
  );
  return {
    status: delivery.status,
    attemptCount: delivery.attempt_count,
    errors: attempts.rows.map((a) => a.error),
    statusCodes: attempts.rows.map((a) => a.status_code),
  };
}

describe("a private CA", () => {
  it("delivers to a server whose certificate the configured CA signed", async () => {
    const id = await send("private-ca.test", "ca-1");
    const outcome = await settled(id, "private-ca", "succeeded");
    expect(outcome).toMatchObject({ attemptCount: 1, errors: [null], statusCodes: [200] });
    expect(plain.received.map((r) => r.eventId)).toContain(id);
  });

  it("without ca_file, fails each attempt with a TLS error naming the cause, and retries it", async () => {
    const id = await send("system-roots.test", "ca-2");
    const outcome = await settled(id, "system-roots", "failed");
    expect(outcome.attemptCount).toBe(2);
    expect(outcome.statusCodes).toEqual([null, null]);
    expect(outcome.errors).toEqual([
      "TLS error (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate)",
      "TLS error (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate); no attempts left",
    ]);
    expect(plain.received.map((r) => r.eventId)).not.toContain(id);
  });
});

describe("mutual TLS", () => {
  it("delivers with the client certificate and key", async () => {
    const id = await send("mtls.test", "mtls-1");
    const outcome = await settled(id, "mtls", "succeeded");
    expect(outcome).toMatchObject({ attemptCount: 1, errors: [null], statusCodes: [200] });
    expect(mutual.received).toContainEqual({ eventId: id, clientName: "hookline-worker" });
  });

  it("fails with a TLS error when the server wants a certificate and gets none", async () => {
    const id = await send("mtls-no-cert.test", "mtls-2");
    const outcome = await settled(id, "mtls-no-cert", "failed");
    expect(outcome.attemptCount).toBe(2);
    expect(outcome.errors).toEqual([
      "TLS error (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required)",
      "TLS error (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required); no attempts left",
    ]);
    expect(mutual.received.map((r) => r.eventId)).not.toContain(id);
  });

  it("fails, and says why it may, when the server closes on a certificate it does not know", async () => {
    // Node's TLS server refuses an unknown client certificate by closing, with no alert to report.
    const id = await send("mtls-stranger.test", "mtls-3");
    const outcome = await settled(id, "mtls-stranger", "failed");
    expect(outcome.attemptCount).toBe(2);
    expect(outcome.errors[0]).toBe(
      "connection error (UND_ERR_SOCKET): the server closed the connection without answering; a server that refuses the client certificate may do this",
    );
    expect(mutual.received.map((r) => r.eventId)).not.toContain(id);
  });

  it("never writes the client key to the log", () => {
    const keyLine = pki.read(pki.clientKey).split("\n")[1] ?? "";
    expect(keyLine.length).toBeGreaterThan(20);
    expect(stack.logs.lines.length).toBeGreaterThan(0);
    for (const line of stack.logs.lines) expect(line).not.toContain(keyLine);
  });
});
