// target.paused and target.resumed: raised where the pause happens (the admin API here; the
// dashboard and the CLI call the same operation), sent by the worker's alerts queue.
import { type RunningAdminServer, startAdminServer } from "@hookline/admin";
import {
  CLAUSUM_SECRET,
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const TOKEN = "admin-test-token-9f8e7d6c5b4a39281706";
const ALERT_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

let iso: Isolated;
let ops: Sink;
let stack: Stack;
let admin: RunningAdminServer;

interface AlertBody {
  type: string;
  data: Record<string, string | number | null>;
}

beforeAll(async () => {
  iso = await isolate("admin-alerts");
  ops = await startSink();
  const config = loadTestConfig(`
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
  - id: fraud-service
    url: http://127.0.0.1:9/unused
  - id: other
    url: http://127.0.0.1:9/unused
routes:
  - { source: clausum, targets: [fraud-service, other] }
alerts:
  - url: ${ops.url}/ops
    signing_secret: "${ALERT_SECRET}"
    events: [target.paused, target.resumed]
`);
  stack = await startStack(iso, config, { alertTiming: { windowMs: 500 } });
  admin = await startAdminServer({ ...stack.shared, port: 0, host: "127.0.0.1", adminToken: TOKEN });
});

afterAll(() => closeAll(admin, stack, ops, iso));

const post = (path: string, body?: unknown) =>
  fetch(`${admin.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const received = (): AlertBody[] => ops.received.map((r) => JSON.parse(r.body.toString()) as AlertBody);

describe("pause and resume alerts", () => {
  it("tells the destination who paused a target and why, then that it resumed", async () => {
    expect(
      (await post("/api/targets/fraud-service/pause", { reason: "deploy of fraud-service" })).status,
    ).toBe(200);
    await eventually(() => received().some((a) => a.type === "target.paused"), { what: "target.paused" });
    expect(received().find((a) => a.type === "target.paused")?.data).toMatchObject({
      target_id: "fraud-service",
      reason: "deploy of fraud-service",
      by: "default",
      count: 1,
    });

    expect((await post("/api/targets/fraud-service/resume")).status).toBe(200);
    await eventually(() => received().some((a) => a.type === "target.resumed"), { what: "target.resumed" });
    expect(received().find((a) => a.type === "target.resumed")?.data).toMatchObject({
      target_id: "fraud-service",
      by: "default",
    });

    for (const request of ops.received) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers)) if (typeof v === "string") headers[k] = v;
      expect(new Webhook(ALERT_SECRET).verify(request.body.toString(), headers)).toBeTruthy();
    }
  });

  it("an unknown target raises nothing", async () => {
    const before = ops.received.length;
    expect((await post("/api/targets/nope/pause")).status).toBe(404);
    // The barrier: a pause of another target after it (its own type and target, so not held in
    // the minute's window of the first test's alerts); its alert arrives, and none came for "nope".
    expect((await post("/api/targets/other/pause", { reason: "barrier" })).status).toBe(200);
    await eventually(() => received().some((a) => a.data.reason === "barrier"), {
      what: "the barrier's alert",
    });
    expect(
      received()
        .slice(before)
        .map((a) => a.data.target_id),
    ).toEqual(["other"]);
  });
});
