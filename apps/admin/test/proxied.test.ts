// The admin port behind a reverse proxy listed in server.trusted_proxies: the audit log names
// the client X-Forwarded-For gives, and the failed-login limit counts each client apart, so one
// client's wrong tokens do not lock out everyone the proxy serves.
import { type RunningAdminServer, startAdminServer } from "@hookline/admin";
import { connectDatabase, type Database } from "@hookline/db";
import {
  CLAUSUM_SECRET,
  closeAll,
  type Isolated,
  isolate,
  loadTestConfig,
  type Stack,
  startStack,
} from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const TOKEN = "admin-test-token-9f8e7d6c5b4a39281706";

let iso: Isolated;
let stack: Stack;
let admin: RunningAdminServer;
let database: Database;

beforeAll(async () => {
  iso = await isolate("admin-proxied");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  const config = loadTestConfig(`
server: { trusted_proxies: ["127.0.0.1/32"] }
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
  - id: fraud-service
    url: http://127.0.0.1:9/unused
routes:
  - { source: clausum, targets: [fraud-service] }
`);
  stack = await startStack(iso, config, { withWorker: false });
  admin = await startAdminServer({ ...stack.shared, port: 0, host: "127.0.0.1", adminToken: TOKEN });
});

afterAll(() => closeAll(admin, stack, database, iso));

const call = (path: string, client: string, token: string, method = "GET") =>
  fetch(`${admin.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "x-forwarded-for": `${client}, 127.0.0.1` },
  });

describe("the admin port behind a trusted proxy", () => {
  it("audits the client the proxy names, not the proxy", async () => {
    expect((await call("/api/targets/fraud-service/pause", "203.0.113.7", TOKEN, "POST")).status).toBe(200);
    const rows = await database.pool.query<{ ip: string }>(
      "select ip from audit_log where action = 'target.pause'",
    );
    expect(rows.rows.map((r) => r.ip)).toEqual(["203.0.113.7"]);
  });

  it("counts failed tokens per client: one client locked out, another served", async () => {
    let last = 0;
    for (let i = 0; i < 12; i++)
      last = (await call("/api/targets", "198.51.100.1", "wrong-token-0123456789")).status;
    expect(last).toBe(429);
    expect((await call("/api/targets", "198.51.100.1", TOKEN)).status).toBe(429);
    expect((await call("/api/targets", "198.51.100.2", TOKEN)).status).toBe(200);
  });
});
