// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ConfigIssue,
  formatIssues,
  type HooklineConfig,
  loadConfigFile,
  loadConfigText,
} from "./index.js";

const HMAC_SOURCE = `
  - id: acme
    verify:
      scheme: hmac
      secrets: ["acme-secret"]
      header: X-Acme-Signature
      algorithm: sha256
      encoding: hex
`;

function load(text: string, env: Record<string, string | undefined> = {}): HooklineConfig {
  const result = loadConfigText(text, env);
  if (!result.ok) throw new Error(`expected the config to load:\n${formatIssues(result.issues)}`);
  return result.config;
}

function issues(text: string, env: Record<string, string | undefined> = {}): readonly ConfigIssue[] {
  const result = loadConfigText(text, env);
  if (result.ok) throw new Error("expected the config to be rejected");
  return result.issues;
}

function lines(text: string, env: Record<string, string | undefined> = {}): string[] {
  return formatIssues(issues(text, env)).split("\n");
}

describe("loadConfigText: defaults", () => {
  it("loads an empty file with every default", () => {
    const config = load("");
    expect(config.server).toEqual({
      host: "0.0.0.0",
      port: 8080,
      adminHost: "127.0.0.1",
      adminPort: 8081,
      bodyLimitBytes: 1_048_576,
      workers: 1,
      queueLingerMs: 2,
      ingestThread: true,
      enqueueTimeoutMs: 5_000,
      bodyIdleTimeoutMs: 10_000,
      headersTimeoutMs: 15_000,
      requestTimeoutMs: 60_000,
      retryAfterSeconds: 5,
      trustedProxies: null,
      requireHttpsTargets: false,
    });
    expect(config.sources).toEqual([]);
    expect(config.targets).toEqual([]);
    expect(config.routes).toEqual([]);
    expect(config.retention).toEqual({
      eventsMs: 2_592_000_000,
      attemptsMs: 2_592_000_000,
      intervalMs: 3_600_000,
      partitioning: "none",
    });
  });

  it("fills target, source and route defaults", () => {
    const config = load(`
sources:
${HMAC_SOURCE}
targets:
  - id: svc
    url: http://127.0.0.1:9001/hook
routes:
  - source: acme
    targets: [svc]
`);
    expect(config.sources[0]?.dedupeWindowMs).toBe(72 * 3_600_000);
    expect(config.sources[0]?.allowIps).toBeNull();
    expect(config.targets[0]).toEqual({
      id: "svc",
      url: "http://127.0.0.1:9001/hook",
      destination: { kind: "http" },
      timeoutMs: 10_000,
      connectTimeoutMs: 5_000,
      retryScheduleMs: [60_000, 300_000, 1_800_000, 7_200_000, 28_800_000],
      rateLimit: null,
      concurrency: 10,
      signingSecrets: [],
      headers: {},
      circuitBreaker: { failureThreshold: 5, cooldownMs: 30_000 },
      tls: null,
    });
    expect(config.routes).toEqual([
      { source: "acme", events: ["*"], targets: ["svc"], orderingKey: null, filter: null, transform: null },
    ]);
  });

  it("parses every setting", () => {
    const config = load(`
server: { port: 9000, host: 127.0.0.1, admin_port: 9001, admin_host: 0.0.0.0, body_limit: 512kb, workers: 4, queue_linger: 5ms, ingest_thread: false, enqueue_timeout: 2s, body_idle_timeout: 3s, headers_timeout: 4s, request_timeout: 30s, retry_after: 10s, trusted_proxies: ["10.0.0.0/8"], require_https_targets: true }
sources:
  - id: acme
    verify:
      scheme: hmac
      secrets: ["one", "two"]
      tolerance: 2m
      header: X-Acme-Signature
      algorithm: sha512
      encoding: base64
      prefix: "v1="
      signed_content: "{timestamp}.{body}"
      timestamp_header: X-Acme-Timestamp
      timestamp_unit: ms
      id_header: X-Acme-Delivery
    dedupe: { window: 1h, key: { json: ["event", "data.id"] } }
    event_type: { json: "type" }
targets:
  - id: svc
    url: https://example.com/hook
    timeout: 2s
    connect_timeout: 500ms
    retry: { schedule: [] }
    rate_limit: 1000/m
    concurrency: 3
    headers: { Authorization: "Bearer t", X-Version: 2 }
    circuit_breaker: { failure_threshold: 2, cooldown: 1m }
routes:
  - { source: acme, events: ["order.*", "refund.created"], targets: [svc, svc], ordering_key: "/data/a~1b/c~0d" }
  - { source: acme, targets: [svc], ordering_key: { header: X-Shop-Id } }
retention: { events: forever, attempts: 7d, interval: 10m, partitioning: weekly }
`);
    expect(config.server).toEqual({
      host: "127.0.0.1",
      port: 9000,
      adminHost: "0.0.0.0",
      adminPort: 9001,
      bodyLimitBytes: 524_288,
      workers: 4,
      queueLingerMs: 5,
      ingestThread: false,
      enqueueTimeoutMs: 2_000,
      bodyIdleTimeoutMs: 3_000,
      headersTimeoutMs: 4_000,
      requestTimeoutMs: 30_000,
      retryAfterSeconds: 10,
      trustedProxies: expect.objectContaining({ cidrs: ["10.0.0.0/8"] }),
      requireHttpsTargets: true,
    });
    const source = config.sources[0];
    expect(source?.dedupeWindowMs).toBe(3_600_000);
    expect(source?.spec).toEqual({
      verify: {
        scheme: "hmac",
        secrets: ["one", "two"],
        toleranceSeconds: 120,
        header: "X-Acme-Signature",
        algorithm: "sha512",
        encoding: "base64",
        prefix: "v1=",
        signedContent: "{timestamp}.{body}",
        timestampHeader: "X-Acme-Timestamp",
        timestampUnit: "ms",
        idHeader: "X-Acme-Delivery",
      },
      eventType: { json: "type" },
      dedupeKey: { json: ["event", "data.id"] },
    });
    expect(source?.verifier).toBeDefined();
    expect(config.targets[0]).toMatchObject({
      timeoutMs: 2_000,
      connectTimeoutMs: 500,
      retryScheduleMs: [],
      rateLimit: { max: 1000, durationMs: 60_000 },
      concurrency: 3,
      headers: { Authorization: "Bearer t", "X-Version": "2" },
      circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
    expect(config.routes[0]).toEqual({
      source: "acme",
      events: ["order.*", "refund.created"],
      targets: ["svc"],
      orderingKey: { kind: "body", pointer: "/data/a~1b/c~0d", tokens: ["data", "a/b", "c~d"] },
      filter: null,
      transform: null,
    });
    expect(config.routes[1]?.orderingKey).toEqual({ kind: "header", name: "x-shop-id" });
    expect(config.retention).toEqual({
      eventsMs: null,
      attemptsMs: 604_800_000,
      intervalMs: 600_000,
      partitioning: "weekly",
    });
  });

  it.each([
    ["body", "body"],
    ["{ header: X-Id }", { header: "X-Id" }],
    ['{ json: "id" }', { json: ["id"] }],
    ['{ json: ["a", "b.c"] }', { json: ["a", "b.c"] }],
  ] as const)("accepts dedupe key %s", (yaml, key) => {
    const config = load(`sources:\n${HMAC_SOURCE}    dedupe: { key: ${yaml} }\n`);
    expect(config.sources[0]?.spec.dedupeKey).toEqual(key);
  });
});

describe("loadConfigText: worker", () => {
  it("defaults to a 15s lock, a 5s stalled check, 16 ingest jobs at once and a 5s reconciler", () => {
    expect(load("").worker).toEqual({
      lockDurationMs: 15_000,
      stalledIntervalMs: 5_000,
      ingestConcurrency: 16,
      reconcileIntervalMs: 5_000,
      reconcileBatch: 1_000,
      reconcileGraceMs: 10_000,
      removedTargetGraceMs: 600_000,
    });
  });

  it("reads every worker setting", () => {
    const config = load(
      "worker: { lock_duration: 2s, stalled_interval: 500ms, ingest_concurrency: 4, reconcile_interval: 1s, reconcile_batch: 10, reconcile_grace: 3s, removed_target_grace: 1m }\n",
    );
    expect(config.worker).toEqual({
      lockDurationMs: 2_000,
      stalledIntervalMs: 500,
      ingestConcurrency: 4,
      reconcileIntervalMs: 1_000,
      reconcileBatch: 10,
      reconcileGraceMs: 3_000,
      removedTargetGraceMs: 60_000,
    });
  });

  it("names a bad worker setting by its path", () => {
    const found = issues("worker: { lock_duration: 0, ingest_concurency: 4 }\n");
    expect(found.map((i) => i.path)).toEqual(["worker.lock_duration", "worker.ingest_concurency"]);
    expect(found[1]?.message).toContain('did you mean "ingest_concurrency"');
  });
});

describe("loadConfigText: ingest", () => {
  it("has one shard by default and reads ingest.shards", () => {
    expect(load("").ingest).toEqual({ shards: 1 });
    expect(load("ingest: { shards: 3 }\n").ingest).toEqual({ shards: 3 });
    expect(issues("ingest: { shards: 0 }\n").map((i) => i.path)).toEqual(["ingest.shards"]);
  });

  it("refuses per-key ordering with more than one shard", () => {
    const text = `ingest: { shards: 2 }
sources:
${HMAC_SOURCE}targets:
  - { id: svc, url: "https://svc.example.com/hook" }
routes:
  - { source: acme, targets: [svc] }
  - { source: acme, targets: [svc], ordering_key: "/data/id" }
`;
    const found = issues(text);
    expect(found.map((i) => i.path)).toEqual(["routes[1].ordering_key"]);
    expect(found[0]?.message).toContain("ingest.shards: 1");
    expect(load(text.replace("shards: 2", "shards: 1")).routes[1]?.orderingKey).not.toBeNull();
  });
});

describe("loadConfigText: alerts", () => {
  it("has none by default, and fills each destination's defaults", () => {
    expect(load("").alerts).toEqual([]);
    const [alert] = load("alerts:\n  - url: http://127.0.0.1:9100/ops\n").alerts;
    expect(alert).toMatchObject({ format: "standard-webhooks", signingSecrets: [], backlogThreshold: 1000 });
    expect([...(alert?.events ?? [])].sort()).toEqual([
      "backlog.high",
      "circuit.closed",
      "circuit.opened",
      "delivery.failed",
      "target.paused",
      "target.resumed",
    ]);
  });

  it("reads every setting", () => {
    const [alert] = load(
      `
alerts:
  - url: https://ops.example/hooks
    format: standard-webhooks
    signing_secret: "\${ALERTS_SECRET}"
    events: [circuit.opened, backlog.high]
    backlog_threshold: 50
`,
      { ALERTS_SECRET: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD" },
    ).alerts;
    expect(alert?.signingSecrets).toEqual(["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"]);
    expect([...(alert?.events ?? [])]).toEqual(["circuit.opened", "backlog.high"]);
    expect(alert?.backlogThreshold).toBe(50);
  });

  it("names every bad setting by its path", () => {
    const found = issues(`
alerts:
  - url: ftp://ops.example/x
  - url: http://ok.example/x
    events: [circuit.exploded]
  - url: https://hooks.slack.com/services/T/B/X
    format: slack
    signing_secret: whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD
  - url: http://ok.example/y
    signing_secret: not-a-secret
    backlog_threshold: 0
`);
    expect(found.map((i) => i.path)).toEqual([
      "alerts[0].url",
      "alerts[1].events[0]",
      "alerts[2].signing_secret",
      "alerts[3].backlog_threshold",
    ]);
  });
});

describe("loadConfigText: environment", () => {
  it("expands ${VAR} in values, never in the YAML text", () => {
    const secret = 'a: b # "c" \n- [d]';
    const config = load(
      `
sources:
  - id: acme
    verify: { scheme: hmac, header: X-Sig, secrets: ["\${ACME_SECRET}"] }
targets:
  - id: svc
    url: "\${SVC_URL:-http://127.0.0.1:9001/}"
    headers: { Authorization: "Bearer \${TOKEN}" }
`,
      { ACME_SECRET: secret, TOKEN: "tok" },
    );
    expect(config.sources[0]?.spec.verify.secrets).toEqual([secret]);
    expect(config.targets[0]?.url).toBe("http://127.0.0.1:9001/");
    expect(config.targets[0]?.headers).toEqual({ Authorization: "Bearer tok" });
  });

  it("reports an unset variable at the value's path, and nothing else about that value", () => {
    const text = `
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["\${CLAUSUM_SECRET}"] }
`;
    expect(lines(text)).toEqual([
      "sources[0].verify.secrets[0]: environment variable CLAUSUM_SECRET is not set",
    ]);
  });

  it("treats numbers from the environment as numbers", () => {
    const config = load('server: { port: "${HTTP_PORT:-9090}" }', {});
    expect(config.server.port).toBe(9090);
  });

  it("rejects a secret that is empty after expansion", () => {
    const text = `sources:\n  - id: acme\n    verify: { scheme: hmac, header: X-Sig, secrets: ["\${ACME_SECRET:-}"] }\n`;
    expect(issues(text)).toEqual([
      expect.objectContaining({
        path: "sources[0].verify.secrets[0]",
        message: expect.stringMatching(/empty/),
      }),
    ]);
  });

  it("keeps $${ as a literal ${", () => {
    const config = load(
      'targets:\n  - { id: t, url: "http://x/", headers: { X-Template: "$${NOT_A_VAR}" } }\n',
    );
    expect(config.targets[0]?.headers).toEqual({ "X-Template": "${NOT_A_VAR}" });
  });
});

describe("loadConfigText: error paths", () => {
  it("names unknown keys, with a suggestion", () => {
    const found = issues("server:\n  prot: 8080\nsoruces: []\n");
    expect(found.map((issue) => issue.path)).toEqual(["server.prot", "soruces"]);
    expect(found[0]?.message).toMatch(/^unknown key "prot" \(did you mean "port"\?\)/);
    expect(found[1]?.message).toMatch(/did you mean "sources"/);
  });

  it("catches `secret:` written for `secrets:`", () => {
    const found = issues('sources:\n  - id: a\n    verify: { scheme: hmac, header: X, secret: "s" }\n');
    expect(found[0]?.path).toBe("sources[0].verify.secret");
    expect(found[0]?.message).toMatch(/did you mean "secrets"/);
  });

  it("reports a bad duration inside a list", () => {
    const text = "targets:\n  - id: svc\n    url: http://x/\n    retry: { schedule: [1m, 5x] }\n";
    expect(lines(text)).toEqual([
      expect.stringMatching(/^targets\[0\]\.retry\.schedule\[1\]: invalid duration "5x"/),
    ]);
  });

  it("asks for a unit on a bare number", () => {
    const found = issues("targets:\n  - id: svc\n    url: http://x/\n    timeout: 30\n");
    expect(found[0]).toMatchObject({
      path: "targets[0].timeout",
      message: expect.stringMatching(/add a unit/),
    });
  });

  it("reports unknown route sources and targets", () => {
    const text = `
sources:
${HMAC_SOURCE}
targets:
  - { id: svc, url: "http://127.0.0.1:9001/" }
routes:
  - { source: acme, targets: [svc, nope] }
  - { source: ghost, targets: [svc] }
`;
    expect(lines(text)).toEqual([
      'routes[0].targets[1]: unknown target "nope"',
      'routes[1].source: unknown source "ghost"',
    ]);
  });

  it("reports an ordering key that is neither a JSON pointer nor a header", () => {
    const text = `
sources:
${HMAC_SOURCE}
targets:
  - { id: svc, url: "http://127.0.0.1:9001/" }
routes:
  - { source: acme, targets: [svc], ordering_key: "data.customer" }
  - { source: acme, targets: [svc], ordering_key: "/a~2" }
  - { source: acme, targets: [svc], ordering_key: { header: "bad header" } }
  - { source: acme, targets: [svc], ordering_key: { json: "/a" } }
`;
    const found = lines(text);
    expect(found[0]).toMatch(/^routes\[0\]\.ordering_key: "data\.customer" is not a JSON pointer/);
    expect(found[1]).toMatch(/^routes\[1\]\.ordering_key: "\/a~2" is not a JSON pointer/);
    expect(found[2]).toBe('routes[2].ordering_key.header: "bad header" is not a header name');
    expect(found[3]).toMatch(/^routes\[3\]\.ordering_key/);
    expect(found).toHaveLength(4);
  });

  it("compiles route filters and reports a malformed one under its path", () => {
    const text = (filter: string) => `
sources:
${HMAC_SOURCE}
targets:
  - { id: svc, url: "http://127.0.0.1:9001/" }
routes:
  - source: acme
    targets: [svc]
    filter: ${filter}
`;
    const ok = loadConfigText(
      text("{ body: { data: { amount: { $gte: 100 } } }, headers: { X-Region: eu } }"),
      {},
    );
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    const filter = ok.config.routes[0]?.filter;
    expect(filter?.body?.({ data: { amount: 150 } })).toBeNull();
    expect(filter?.body?.({ data: { amount: 5 } })).not.toBeNull();
    expect(filter?.headers?.({ "x-region": "eu" })).toBeNull();
    expect(lines(text("{ body: { data: { amount: { $gtx: 5 } } }, headers: { a: { $in: 1 } } }"))).toEqual([
      'routes[0].filter.body.data.amount: unknown operator "$gtx" (known: $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $contains $exist $or $and $not)',
      "routes[0].filter.headers.a: $in takes a list, got a number (1)",
    ]);
    expect(lines(text("{ body: [1] }"))).toEqual([
      "routes[0].filter.body: expected an object of fields and operators, got a list",
    ]);
    expect(lines(text("{ bdy: {} }"))[0]).toMatch(/^routes\[0\]\.filter/);
  });

  it("compiles route transforms and reports one that does not compile under its path", () => {
    const text = (route: string) => `
sources:
${HMAC_SOURCE}
targets:
  - { id: svc, url: "http://127.0.0.1:9001/" }
routes:
  - { source: acme, targets: [svc], ${route} }
`;
    const ok = loadConfigText(text(`transform: '{ "id": data.id }', transform_timeout: 20ms`), {});
    expect(ok.ok && ok.config.routes[0]?.transform?.timeoutMs).toBe(20);
    const defaulted = loadConfigText(text(`transform: 'data'`), {});
    expect(defaulted.ok && defaulted.config.routes[0]?.transform?.timeoutMs).toBe(100);
    const [bad] = lines(text(`transform: '{ "id": data.( }'`));
    expect(bad).toContain("S0");
    expect(bad).toMatch(/^routes\[0\]\.transform: not a JSONata expression: /);
    expect(lines(text("transform_timeout: 1s"))).toEqual([
      "routes[0].transform_timeout: is set but the route has no transform",
    ]);
  });

  it("takes broker targets and reports what each type needs", () => {
    const text = (targets: string) => `
targets:
${targets}
`;
    const ok = loadConfigText(
      text(`  - { id: a, type: amqp, url: "amqp://guest:guest@127.0.0.1:5672", exchange: "", routing_key: "{source}.{event_type}" }
  - { id: n, type: nats, url: "nats://127.0.0.1:4222", subject: "hooks.{source}" }
  - { id: h, url: "http://127.0.0.1:9/h" }`),
      {},
    );
    expect(ok.ok && ok.config.targets.map((t) => t.destination)).toEqual([
      { kind: "amqp", exchange: "", routingKey: "{source}.{event_type}" },
      { kind: "nats", subject: "hooks.{source}" },
      { kind: "http" },
    ]);
    expect(
      lines(
        text(`  - { id: a, type: amqp, url: "http://127.0.0.1:9/", routing_key: "{sauce}" }
  - { id: n, type: nats, url: "nats://127.0.0.1:4222", exchange: x }
  - { id: h, url: "amqp://127.0.0.1", subject: s }`),
      ),
    ).toEqual([
      'targets[0].exchange: is required for an amqp target ("" is the default exchange)',
      "targets[0].url: amqp targets take amqp:// or amqps:// URLs, got a http: URL",
      "targets[0].routing_key: unknown field {sauce} (a template may use {source} and {event_type})",
      "targets[1].subject: is required for a nats target",
      "targets[1].exchange: is not a setting of a nats target",
      "targets[2].url: http targets take http:// or https:// URLs, got a amqp: URL",
      "targets[2].subject: is not a setting of an http target",
    ]);
  });

  it("reports duplicate ids", () => {
    const text = `
sources:
${HMAC_SOURCE}${HMAC_SOURCE}
targets:
  - { id: svc, url: "http://a/" }
  - { id: svc, url: "http://b/" }
`;
    expect(lines(text)).toEqual([
      'sources[1].id: duplicate source id "acme" (already used by sources[0])',
      'targets[1].id: duplicate target id "svc" (already used by targets[0])',
    ]);
  });

  it("validates ids", () => {
    const found = issues('sources:\n  - id: "bad id!"\n    verify: { scheme: none }\n');
    expect(found.map((issue) => issue.path)).toEqual(["sources[0].id"]);
  });

  it("reports required keys", () => {
    const found = issues("sources:\n  - id: a\ntargets:\n  - id: t\nroutes:\n  - source: a\n");
    expect(found.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      "sources[0].verify: is required",
      "targets[0].url: is required",
      "routes[0].targets: is required",
    ]);
  });

  it("reports verifier errors under the source's path", () => {
    const text = `
sources:
  - id: ok
    verify: { scheme: none }
  - id: mystery
    verify: { scheme: no-such-scheme, secrets: ["x"] }
  - id: klariqo
    verify: { scheme: standard-webhooks, secrets: ["whsec_!!!not base64!!!"] }
`;
    const found = issues(text);
    expect(found.some((issue) => issue.path.startsWith("sources[1].verify"))).toBe(true);
    expect(found.some((issue) => issue.path.startsWith("sources[2].verify.secrets"))).toBe(true);
    expect(found.every((issue) => /^sources\[[12]\]\.verify/.test(issue.path))).toBe(true);
  });

  it("validates target signing secrets as Standard Webhooks secrets", () => {
    const found = issues(`
targets:
  - { id: a, url: "http://x/", signing_secret: "whsec_!!!" }
  - { id: b, url: "http://x/", signing_secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!"] }
  - { id: c, url: "http://x/", signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", signing_secrets: [] }
`);
    expect(found.map((issue) => issue.path)).toEqual([
      "targets[0].signing_secret",
      "targets[1].signing_secrets[1]",
      "targets[2].signing_secrets",
    ]);
  });

  it("validates target fields", () => {
    const found = issues(`
targets:
  - id: t
    url: ftp://example.com/
    rate_limit: 50 per second
    concurrency: 0
    headers: { webhook-id: x, "bad header": y }
`);
    expect(found.map((issue) => issue.path)).toEqual(["targets[0].rate_limit", "targets[0].concurrency"]);
    // Shape errors stop the item; fix them and the semantic checks run.
    const next = issues(`
targets:
  - id: t
    url: ftp://example.com/
    headers: { webhook-id: x, "bad header": y }
`);
    expect(next.map((issue) => issue.path)).toEqual([
      "targets[0].url",
      "targets[0].headers.webhook-id",
      'targets[0].headers["bad header"]',
    ]);
  });

  it("checks route references even when another key of the route is wrong", () => {
    const found = issues("routes:\n  - { source: ghost, events: [], targets: [nope] }\n");
    expect(found.map((issue) => issue.path)).toEqual([
      "routes[0].source",
      "routes[0].events",
      "routes[0].targets[0]",
    ]);
  });

  it("never echoes secrets or target URLs in messages", () => {
    const found = issues(`
sources:
  - id: a
    verify: { scheme: hmac, header: X-Sig, secrets: "whsec_TOPSECRETVALUE" }
targets:
  - { id: t, url: "ftp://user:TOPSECRETVALUE@example.com/", headers: "Bearer TOPSECRETVALUE" }
`);
    expect(found.map((issue) => issue.path)).toEqual(["sources[0].verify.secrets", "targets[0].headers"]);
    expect(formatIssues(found)).not.toContain("TOPSECRETVALUE");
    const url = issues('targets:\n  - { id: t, url: "ftp://user:TOPSECRETVALUE@example.com/" }\n');
    expect(url.map((issue) => issue.path)).toEqual(["targets[0].url"]);
    expect(formatIssues(url)).not.toContain("TOPSECRETVALUE");
  });

  it("accepts an unquoted ${VAR:-default} for a number", () => {
    expect(load("server:\n  port: ${HTTP_PORT:-9091}\n").server.port).toBe(9091);
    expect(load("server:\n  port: ${HTTP_PORT:-9091}\n", { HTTP_PORT: "7000" }).server.port).toBe(7000);
  });

  it("reports wrong types plainly", () => {
    expect(lines("sources: {}\nserver: { port: eighty }\n")).toEqual([
      "sources: expected a list, got a mapping",
      'server.port: must be an integer from 0 to 65535, got "eighty"',
    ]);
    expect(lines("- just\n- a list\n")).toEqual([
      "the config must be a mapping (key: value) at the top level, got a list",
    ]);
  });

  it("reports enum values", () => {
    const found = issues(`sources:\n${HMAC_SOURCE.replace("sha256", "md5")}`);
    expect(found).toEqual([
      expect.objectContaining({
        path: "sources[0].verify.algorithm",
        message: expect.stringMatching(/sha1, sha256, sha512/),
      }),
    ]);
  });

  it("collects every error in file order, with line numbers", () => {
    const text = [
      "server:", //  1
      "  body_limit: huge", //  2
      "sources:", //  3
      "  - id: a", //  4
      "    verify: { scheme: none, tolerance: 5x }", //  5
      "targets:", //  6
      "  - { id: t, url: http://x/, retry: { schedule: [1m, soon] } }", //  7
      "routes:", //  8
      "  - { source: a, targets: [nope] }", //  9
      "retention: { events: never }", // 10
    ].join("\n");
    const found = issues(text);
    expect(found.map((issue) => [issue.path, issue.line])).toEqual([
      ["server.body_limit", 2],
      ["sources[0].verify.tolerance", 5],
      ["targets[0].retry.schedule[1]", 7],
      ["routes[0].targets[0]", 9],
      ["retention.events", 10],
    ]);
    expect(formatIssues(found, { lines: true }).split("\n")[0]).toMatch(
      /^server\.body_limit: .* \(line 2\)$/,
    );
  });

  it("gives YAML syntax errors a line and column", () => {
    const found = issues("server:\n  port: 8080\n  host: [unclosed\nsources: []\n");
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]?.path).toBe("");
    expect(found[0]?.message).toMatch(/^YAML syntax error: .*line \d+, column \d+/);
    expect(found[0]?.line).toBeTypeOf("number");
    expect(formatIssues(found)).not.toContain("\n\n");
  });

  it("rejects duplicate YAML keys", () => {
    expect(issues("server:\n  port: 1\n  port: 2\n")[0]?.message).toMatch(/unique.*line 3/);
  });

  it("never throws", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = loadConfigText(text, {});
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = loadConfigText(
          JSON.stringify({ sources: [value], targets: [value], routes: [value] }),
          {},
        );
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 300 },
    );
  });
});

describe("loadConfigFile", () => {
  it("reports a missing file as one issue", () => {
    const result = loadConfigFile("/nonexistent/hookline.yaml", {});
    expect(result).toEqual({
      ok: false,
      issues: [
        { path: "", message: expect.stringMatching(/^config file not found: \/nonexistent\/hookline\.yaml/) },
      ],
    });
  });

  it("reports a directory as one issue", () => {
    const result = loadConfigFile(tmpdir(), {});
    expect(result.ok ? [] : result.issues).toEqual([
      { path: "", message: expect.stringMatching(/directory/) },
    ]);
  });

  it("loads a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookline-config-"));
    const path = join(dir, "hookline.yaml");
    writeFileSync(path, "server: { port: 1234 }\n");
    const result = loadConfigFile(path, {});
    expect(result.ok && result.config.server.port).toBe(1234);
  });
});

describe("loadConfigText: server.workers", () => {
  it("takes a count or auto, and names anything else by its path", () => {
    expect(load("server: { workers: auto }\n").server.workers).toBe("auto");
    expect(load("server: { workers: 2 }\n").server.workers).toBe(2);
    const found = issues("server: { workers: 0 }\n");
    expect(found.map((i) => i.path)).toEqual(["server.workers"]);
  });
});

describe("loadConfigText: network security", () => {
  const SOURCE = `
sources:
  - id: acme
    verify: { scheme: none }
`;

  it("compiles allow_ips and trusted_proxies", () => {
    const config = load(`
server: { trusted_proxies: ["10.0.0.0/8", "fd00::/8"] }
sources:
  - id: acme
    verify: { scheme: none }
    allow_ips: ["192.0.2.0/24", "2001:db8::1"]
`);
    expect(config.server.trustedProxies?.cidrs).toEqual(["10.0.0.0/8", "fd00::/8"]);
    expect(config.server.trustedProxies?.includes("10.1.2.3")).toBe(true);
    const allowed = config.sources[0]?.allowIps;
    expect(allowed?.includes("192.0.2.200")).toBe(true);
    expect(allowed?.includes("::ffff:192.0.2.200")).toBe(true);
    expect(allowed?.includes("2001:db8::1")).toBe(true);
    expect(allowed?.includes("2001:db8::2")).toBe(false);
    expect(allowed?.includes("198.51.100.1")).toBe(false);
  });

  it("names a bad CIDR by its place in the list", () => {
    expect(
      lines(`
server: { trusted_proxies: ["10.0.0.0/8", "10.0.0.0/40"] }
sources:
  - id: acme
    verify: { scheme: none }
    allow_ips: ["192.0.2.0/24", "not-an-ip", "::1"]
`),
    ).toEqual([
      'server.trusted_proxies[1]: "10.0.0.0/40": the prefix length must be 0 to 32',
      'sources[0].allow_ips[1]: "not-an-ip" is not an IP address or CIDR (e.g. "10.0.0.0/8", "2001:db8::/32")',
    ]);
  });

  it("refuses an empty allow list, which would refuse every request", () => {
    expect(lines(`${SOURCE}    allow_ips: []\n`)).toEqual([
      "sources[0].allow_ips: must not be empty (leave it out to mean any address)",
    ]);
  });

  it("makes a plain http:// target an error under require_https_targets", () => {
    const targets = `
targets:
  - id: a
    url: https://127.0.0.1:9001/hook
  - id: b
    url: http://127.0.0.1:9001/hook
`;
    expect(load(targets).targets).toHaveLength(2);
    expect(lines(`server: { require_https_targets: true }\n${targets}`)).toEqual([
      "targets[1].url: is a plain http:// URL, and server.require_https_targets is set: use https://",
    ]);
    expect(load(`server: { require_https_targets: false }\n${targets}`).server.requireHttpsTargets).toBe(
      false,
    );
  });
});

describe("loadConfigText: targets[].tls", () => {
  const dir = mkdtempSync(join(tmpdir(), "hookline-tls-"));
  const openssl = (...args: string[]) => {
    const run = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    // No openssl, no test of real certificates: fail loudly rather than skip.
    if (run.error || run.status !== 0)
      throw new Error(
        `openssl ${args[0]} failed (is /usr/bin/openssl installed?): ${run.error?.message ?? run.stderr}`,
      );
  };
  // Made by the first test that needs them: without openssl each of these tests fails (none is
  // skipped), and the rest of the file still runs.
  let made: Error | "ok" | undefined;
  const makeFiles = () => {
    for (const name of ["ca", "client", "other"])
      openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        `/CN=${name}`,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.crt`,
      );
    openssl(
      "pkey",
      "-in",
      "client.key",
      "-aes256",
      "-passout",
      "pass:hunter2",
      "-out",
      "client-encrypted.key",
    );
    writeFileSync(join(dir, "garbage.pem"), "not a certificate\n");
  };
  const files = () => {
    if (made === undefined) {
      try {
        makeFiles();
        made = "ok";
      } catch (error) {
        made = error instanceof Error ? error : new Error(String(error));
      }
    }
    if (made !== "ok") throw made;
  };

  const target = (tls: string, url = "https://127.0.0.1:9443/hook") => `
targets:
  - id: a
    url: http://127.0.0.1:9001/hook
  - id: b
    url: ${url}
    tls: ${tls}
`;
  const loadIn = (text: string) => {
    files();
    return loadConfigText(text, {}, { baseDir: dir });
  };
  const messages = (text: string) => {
    const result = loadIn(text);
    if (result.ok) throw new Error("expected the config to be rejected");
    return formatIssues(result.issues).split("\n");
  };

  it("reads the CA, certificate and key at load, from paths relative to the config's folder", () => {
    const result = loadIn(target("{ ca_file: ca.crt, cert_file: client.crt, key_file: client.key }"));
    if (!result.ok) throw new Error(formatIssues(result.issues));
    const tls = result.config.targets[1]?.tls;
    expect(tls?.caFile).toBe(join(dir, "ca.crt"));
    expect(tls?.ca).toContain("-----BEGIN CERTIFICATE-----");
    expect(tls?.cert).toContain("-----BEGIN CERTIFICATE-----");
    expect(tls?.key?.pem()).toContain("PRIVATE KEY-----");
    expect(result.config.targets[0]?.tls).toBeNull();
  });

  it("never shows the key's text when the config is printed, serialised or inspected", () => {
    const result = loadIn(target("{ cert_file: client.crt, key_file: client.key }"));
    if (!result.ok) throw new Error(formatIssues(result.issues));
    const tls = result.config.targets[1]?.tls;
    const key = tls?.key?.pem() ?? "";
    const body = key.split("\n")[1] ?? "";
    expect(body.length).toBeGreaterThan(20);
    expect(JSON.stringify(result.config.targets)).not.toContain(body);
    expect(inspect(result.config.targets, { depth: 10 })).not.toContain(body);
    expect(String(tls?.key)).toBe(`[private key ${join(dir, "client.key")}]`);
  });

  it("names a missing or unreadable file by the key's path", () => {
    expect(messages(target("{ ca_file: missing.crt }"))).toEqual([
      `targets[1].tls.ca_file: cannot read ${join(dir, "missing.crt")}: file not found`,
    ]);
    expect(messages(target(`{ ca_file: ${dir} }`))).toEqual([
      `targets[1].tls.ca_file: cannot read ${dir}: is a directory, not a file`,
    ]);
    expect(messages(target("{ cert_file: client.crt, key_file: nope.key }"))).toEqual([
      `targets[1].tls.key_file: cannot read ${join(dir, "nope.key")}: file not found`,
    ]);
  });

  it("refuses a file that holds no certificate, without echoing its text", () => {
    const found = messages(target("{ ca_file: garbage.pem }"));
    expect(found).toEqual([
      `targets[1].tls.ca_file: ${join(dir, "garbage.pem")} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`,
    ]);
    // A key given as the CA is refused without a word of it.
    const keyAsCa = messages(target("{ ca_file: client.key }"));
    expect(keyAsCa).toEqual([
      `targets[1].tls.ca_file: ${join(dir, "client.key")} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`,
    ]);
  });

  it("takes cert_file and key_file together only", () => {
    expect(messages(target("{ cert_file: client.crt }"))).toEqual([
      "targets[1].tls.key_file: cert_file and key_file go together: set both, or neither",
    ]);
    expect(messages(target("{ ca_file: ca.crt, key_file: client.key }"))).toEqual([
      "targets[1].tls.cert_file: cert_file and key_file go together: set both, or neither",
    ]);
    expect(messages(target("{}"))).toEqual([
      "targets[1].tls: set ca_file, or cert_file and key_file (or leave tls out)",
    ]);
  });

  it("refuses a key that is not the certificate's, naming no key material", () => {
    const found = messages(target("{ cert_file: client.crt, key_file: other.key }"));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      new RegExp(
        `^targets\\[1\\]\\.tls\\.key_file: ${join(dir, "other.key")} is not an unencrypted PEM private key for ${join(dir, "client.crt")} \\(.*\\)$`,
      ),
    );
    expect(found[0]).not.toContain("PRIVATE KEY");
  });

  it("refuses a key with a passphrase: there is nowhere to give it", () => {
    const found = messages(target("{ cert_file: client.crt, key_file: client-encrypted.key }"));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(
      `targets[1].tls.key_file: ${join(dir, "client-encrypted.key")} is not an unencrypted PEM private key`,
    );
  });

  it("refuses tls on a plain http:// target", () => {
    expect(messages(target("{ ca_file: ca.crt }", "http://127.0.0.1:9001/hook"))).toEqual([
      "targets[1].tls: is set, but the url is plain http://: use https://",
    ]);
  });

  it("refuses tls on a broker target, and unknown keys", () => {
    expect(
      messages(`
targets:
  - id: q
    type: amqp
    url: amqps://127.0.0.1
    exchange: ""
    routing_key: x
    tls: { ca_file: ca.crt }
`),
    ).toEqual([
      "targets[0].tls: is a setting of http targets only; an amqp target cannot take a private CA or client certificate yet",
    ]);
    expect(messages(target("{ ca_file: ca.crt, verify: false }"))[0]).toMatch(
      /^targets\[1\]\.tls\.verify: unknown key "verify"/,
    );
  });
});

describe("loadConfigText: admin.tokens", () => {
  const OPS = "ops-token-0123456789abcdef";
  const VIEW = "viewer-token-0123456789abcdef";

  it("has no tokens by default, and reads named tokens with their roles from the environment", () => {
    expect(load("").admin).toEqual({ tokens: [] });
    const config = load(
      `admin:\n  tokens:\n    - { name: ops, token: "\${OPS_TOKEN}", role: operate }\n    - { name: viewer, token: "\${VIEW_TOKEN}", role: read }\n`,
      { OPS_TOKEN: OPS, VIEW_TOKEN: VIEW },
    );
    expect(config.admin.tokens).toEqual([
      { name: "ops", token: OPS, role: "operate" },
      { name: "viewer", token: VIEW, role: "read" },
    ]);
  });

  it("names each problem by its path and never shows a token", () => {
    const text = `admin:
  tokens:
    - { name: ops, token: "${OPS}", role: operate }
    - { name: ops, token: "${VIEW}", role: read }
    - { name: third, token: "${OPS}", role: read }
    - { name: short, token: "abc123", role: read }
    - { name: empty, token: "", role: read }
    - { name: default, token: "default-token-0123456789abcdef", role: read }
    - { name: bad role, token: "bad-role-token-0123456789abcdef", role: admin }
    - { name: nokey, role: read }
`;
    const found = issues(text);
    const at = (path: string) => found.filter((i) => i.path === path).map((i) => i.message);
    expect(at("admin.tokens[1].name")).toEqual([expect.stringContaining('duplicate token name "ops"')]);
    expect(at("admin.tokens[2].token")).toEqual([
      expect.stringContaining("is the same token as admin.tokens[0]"),
    ]);
    expect(at("admin.tokens[3].token")).toEqual([expect.stringContaining("at least 16 characters")]);
    expect(at("admin.tokens[4].token")).toEqual([expect.stringContaining("must not be empty")]);
    expect(at("admin.tokens[5].name")).toEqual([expect.stringContaining("HOOKLINE_ADMIN_TOKEN")]);
    expect(at("admin.tokens[6].name")).toHaveLength(1);
    expect(at("admin.tokens[6].role")).toEqual([expect.stringContaining("read")]);
    expect(at("admin.tokens[7].token")).toEqual(["is required"]);
    const printed = formatIssues(found);
    for (const secret of [OPS, VIEW, "abc123", "default-token-0123456789abcdef"])
      expect(printed).not.toContain(secret);
  });

  it("reports a token that is not a string without echoing it, and unknown keys", () => {
    expect(lines("admin:\n  tokens:\n    - { name: n, token: 12345678901234567890, role: read }\n")).toEqual([
      expect.stringMatching(/admin\.tokens\[0\]\.token: expected a string, got a number$/),
    ]);
    expect(lines("admin:\n  token: x\n")[0]).toContain("admin.token");
  });
});
