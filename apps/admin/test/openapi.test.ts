// GET /api/openapi.json against a real admin server, Postgres and Redis: the document is valid
// OpenAPI 3.1 (checked with @seriousme/openapi-schema-validator, against the specification's own
// JSON Schema), it lists exactly the routes the app serves, and the answers match its schemas.
import { type RunningAdminServer, startAdminServer } from "@hookline/admin";
import { connectDatabase, type Database } from "@hookline/db";
import {
  closeAll,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pkg from "../package.json" with { type: "json" };
import { ErrorBody, routes } from "../src/routes";
import { ADMIN_TOKEN, adminConfig, api, json } from "./helpers";

const VIEWER = "viewer-token-for-openapi-tests-3c5e7a9b1d";

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  security?: Record<string, string[]>[];
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
  paths: Record<string, Record<string, { security?: unknown[] }>>;
}

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** "GET /api/events/{id}" for each route a Hono app serves; middleware (method ALL) is not a route. */
function served(appRoutes: readonly { method: string; path: string }[]): Set<string> {
  return new Set(
    appRoutes
      .filter((r) => r.method !== "ALL")
      // `:id` and `:id{[0-9]+}` are OpenAPI's `{id}`.
      .map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`),
  );
}

function documented(doc: OpenApiDocument): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item))
      if (METHODS.has(method)) out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

/** What one side has and the other does not, sorted: both empty when they agree. */
function compare(servedRoutes: Set<string>, documentedRoutes: Set<string>) {
  return {
    undocumented: [...servedRoutes].filter((r) => !documentedRoutes.has(r)).sort(),
    unserved: [...documentedRoutes].filter((r) => !servedRoutes.has(r)).sort(),
  };
}

let iso: Isolated;
let sink: Sink;
let stack: Stack;
let admin: RunningAdminServer;
let database: Database;
let doc: OpenApiDocument;
let docText: string;

beforeAll(async () => {
  iso = await isolate("openapi");
  sink = await startSink();
  const config = loadTestConfig(
    adminConfig(
      { one: { sink } },
      "  - { source: clausum, targets: [one] }",
      `admin:
  tokens:
    - { name: viewer, token: "\${VIEWER_TOKEN}", role: read }
`,
    ),
    { VIEWER_TOKEN: VIEWER },
  );
  // No worker: the rows stay as SQL and the requests leave them.
  stack = await startStack(iso, config, { withWorker: false });
  admin = await startAdminServer({ ...stack.shared, port: 0, host: "127.0.0.1", adminToken: ADMIN_TOKEN });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  await database.pool.query(
    `insert into events (id, source_id, event_type, dedupe_key, headers, body, content_type)
     values ('evt_oa1', 'clausum', 'case.created', 'k1', '{"content-type": "application/json"}',
             convert_to('{"n":1}', 'UTF8'), 'application/json')`,
  );
  await database.pool.query(
    `insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, last_error)
     values ('dlv_oa1', 'evt_oa1', 'one', 'clausum', 'failed', 1, 'target answered 503')`,
  );
  const res = await api(admin, "/api/openapi.json", { token: VIEWER });
  expect(res.status).toBe(200);
  docText = await res.text();
  doc = JSON.parse(docText) as OpenApiDocument;
});

afterAll(() => closeAll(admin, stack, database, sink, iso));

describe("GET /api/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document whose every $ref resolves", async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(docText) as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    // Throws on a $ref to nothing.
    expect(() => validator.resolveRefs()).not.toThrow();
    expect(doc.info).toMatchObject({ title: "Hookline admin API", version: pkg.version });
  });

  it("asks for a bearer token, except where the port answers without one", () => {
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/healthz"]?.get?.security).toEqual([]);
    expect(doc.paths["/metrics"]?.get?.security).toEqual([]);
    for (const [path, item] of Object.entries(doc.paths)) {
      if (path.startsWith("/api/"))
        for (const op of Object.values(item)) expect(op.security, path).toEqual([{ bearer: [] }]);
    }
  });

  it("needs a token like every /api route, and carries none", async () => {
    const res = await api(admin, "/api/openapi.json", { token: null });
    expect(res.status).toBe(401);
    expect(docText).not.toContain(ADMIN_TOKEN);
    expect(docText).not.toContain(VIEWER);
  });
});

describe("the document and the routes the app serves", () => {
  it("agree: every route is documented with its method, and every documented route is served", () => {
    const servedRoutes = served(admin.app.routes);
    expect(servedRoutes.size).toBeGreaterThan(10);
    expect(compare(servedRoutes, documented(doc))).toEqual({ undocumented: [], unserved: [] });
  });

  it("would catch a route added without a schema, and a documented route nobody serves", () => {
    const servedRoutes = served([...admin.app.routes, { method: "GET", path: "/api/things/:id" }]);
    expect(compare(servedRoutes, documented(doc))).toEqual({
      undocumented: ["GET /api/things/{id}"],
      unserved: [],
    });
    const fewer = served(admin.app.routes.filter((r) => r.path !== "/api/targets/:id/resume"));
    expect(compare(fewer, documented(doc))).toEqual({
      undocumented: [],
      unserved: ["POST /api/targets/{id}/resume"],
    });
  });
});

/** The 200 or 202 schema of a route: what its answer must parse as. */
function answerSchema(
  route: (typeof routes)[keyof typeof routes],
  status: 200 | 202,
): { parse(value: unknown): unknown } {
  const responses = route.responses as Record<number, { content?: Record<string, { schema: unknown }> }>;
  const schema = responses[status]?.content?.["application/json"]?.schema;
  if (!schema || typeof (schema as { parse?: unknown }).parse !== "function")
    throw new Error(`no ${status} JSON schema for ${route.path}`);
  return schema as { parse(value: unknown): unknown };
}

describe("answers match their documented schemas", () => {
  const reads: [string, keyof typeof routes][] = [
    ["/api/events", "events"],
    ["/api/events/evt_oa1", "event"],
    ["/api/deliveries", "deliveries"],
    ["/api/deliveries/dlv_oa1", "delivery"],
    ["/api/targets", "targets"],
    ["/api/targets/one", "target"],
    ["/api/ingest-failures", "ingestFailures"],
  ];
  for (const [path, name] of reads) {
    it(`GET ${path}`, async () => {
      const res = await api(admin, path);
      expect(res.status).toBe(200);
      answerSchema(routes[name], 200).parse(await json(res));
    });
  }

  it("POST pause, resume, a dry run, then the audit log they wrote", async () => {
    const paused = await api(admin, "/api/targets/one/pause", {
      method: "POST",
      body: { reason: "maintenance" },
    });
    expect(paused.status).toBe(200);
    answerSchema(routes.pause, 200).parse(await json(paused));
    const resumed = await api(admin, "/api/targets/one/resume", { method: "POST" });
    expect(resumed.status).toBe(200);
    answerSchema(routes.resume, 200).parse(await json(resumed));
    const dry = await api(admin, "/api/deliveries/retry", {
      method: "POST",
      body: { status: ["failed"], dry_run: true },
    });
    expect(await json(dry)).toEqual({ dry_run: true, matched: 1 });
    const audit = await api(admin, "/api/audit");
    expect(audit.status).toBe(200);
    const entries = answerSchema(routes.audit, 200).parse(await json(audit)) as { data: unknown[] };
    expect(entries.data.length).toBeGreaterThanOrEqual(2);
  });

  it("an error answers the documented error body", async () => {
    const res = await api(admin, "/api/events/evt_none");
    expect(res.status).toBe(404);
    expect(ErrorBody.parse(await json(res)).code).toBe("event_not_found");
  });

  it("a body is read whatever its content type: curl -d sends form-urlencoded", async () => {
    const res = await fetch(`${admin.url}/api/deliveries/retry`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: JSON.stringify({ status: "failed", dry_run: true }),
    });
    expect(await json(res)).toEqual({ dry_run: true, matched: 1 });
  });

  // Last: it queues the delivery again.
  it("a flag in the body wins over the query string's, false included", async () => {
    const res = await api(admin, "/api/deliveries/retry?dry_run=true", {
      method: "POST",
      body: { status: "failed", dry_run: false },
    });
    expect({ status: res.status, body: await json(res) }).toEqual({ status: 202, body: { retried: 1 } });
  });
});
