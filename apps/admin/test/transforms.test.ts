// Transformed deliveries through the admin API: what was sent is shown beside the event's own
// body, a replay applies the route's transform again, and a delivery whose transform failed
// cannot be retried by hand (it has nothing to send).
import { type AdminErrorBody, type RunningAdminServer, startAdminServer } from "@hookline/admin";
import { connectDatabase, type Database } from "@hookline/db";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, adminConfig, api, json } from "./helpers";

let iso: Isolated;
let shaped: Sink;
let stack: Stack;
let admin: RunningAdminServer;
let database: Database;

beforeAll(async () => {
  iso = await isolate("admintransforms");
  shaped = await startSink();
  const config = loadTestConfig(
    adminConfig(
      { shaped: { sink: shaped } },
      `  - source: clausum
    targets: [shaped]
    transform: 'data.case_id ? { "case": data.case_id }'`,
    ),
  );
  stack = await startStack(iso, config);
  admin = await startAdminServer({ ...stack.shared, port: 0, host: "127.0.0.1", adminToken: ADMIN_TOKEN });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(admin, stack, database, shaped, iso));

async function send(data: Record<string, unknown>): Promise<string> {
  const body = JSON.stringify({ event: "case.updated", timestamp: "2026-11-28T12:00:00.000Z", data });
  const res = await sendSigned(stack, "clausum", body);
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

interface DeliveryAnswer {
  id: string;
  status: string;
  transformed: boolean;
  last_error: string | null;
  sent_body?: string;
}

const deliveriesOf = async (eventId: string) =>
  (await json<{ deliveries: DeliveryAnswer[] }>(await api(admin, `/api/events/${eventId}`))).deliveries;

describe("transformed deliveries in the admin API", () => {
  it("show what was sent, and a replay sends the transform's result again", async () => {
    const id = await send({ case_id: "c-7" });
    await shaped.waitFor(1, 10_000);
    const [first] = await eventually(async () => {
      const list = await deliveriesOf(id);
      return list[0]?.status === "succeeded" ? list : undefined;
    });
    expect(first).toMatchObject({ transformed: true, sent_body: '{"case":"c-7"}' });

    const res = await api(admin, `/api/events/${id}/replay`, { method: "POST" });
    expect(res.status).toBe(202);
    const [again] = await shaped.waitFor(2, 10_000).then((r) => r.slice(1));
    expect(again?.body.toString("utf8")).toBe('{"case":"c-7"}');
    expect(again?.headers["content-type"]).toBe("application/json");
  });

  it("refuse to retry a delivery whose transform failed: 409 transform_failed", async () => {
    const id = await send({ note: "no case id" });
    const [failed] = await eventually(async () => {
      const list = await deliveriesOf(id);
      return list[0]?.status === "failed" ? list : undefined;
    });
    expect(failed?.last_error).toMatch(/^transform_error: the expression produced no value/);
    expect(failed?.transformed).toBe(false);
    const res = await api(admin, `/api/deliveries/${failed?.id}/retry`, { method: "POST" });
    expect(res.status).toBe(409);
    expect((await json<AdminErrorBody>(res)).code).toBe("transform_failed");
  });
});
