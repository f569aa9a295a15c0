// hookline.yaml → HooklineConfig. Parse YAML, expand ${VAR} inside string values, validate each
// section with zod, compile every source's verifier, check cross-references, and report every
// problem at once with its path. Never throws.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Document } from "yaml";
import { LineCounter, parseDocument } from "yaml";
import { buildAlert } from "./alerts.js";
import { type Env, expandEnv } from "./expand.js";
import { errorText, type Issue, isRecord, startsWith, validate } from "./issues.js";
import { formatPath, type PathSegment } from "./paths.js";
import { describe, rootSchema } from "./schema.js";
import {
  asList,
  buildAdmin,
  buildIngest,
  buildRetention,
  buildRoute,
  buildServer,
  buildSource,
  buildTarget,
  buildWorker,
  collectIds,
} from "./sections.js";
import type {
  AlertConfig,
  ConfigIssue,
  HooklineConfig,
  LoadConfigResult,
  RouteConfig,
  SourceConfig,
  TargetConfig,
} from "./types.js";

// ---------------------------------------------------------------------------------------------
// environment expansion over the parsed tree

function expandTree(value: unknown, env: Env, at: PathSegment[], issues: Issue[]): unknown {
  if (typeof value === "string") {
    const result = expandEnv(value, env);
    if (result.ok) return result.value;
    for (const message of result.errors) issues.push({ at: [...at], message });
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => expandTree(item, env, [...at, i], issues));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = expandTree(item, env, [...at, key], issues);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// entry points

function present(value: unknown): unknown {
  return value === null ? undefined : value;
}

function validateDocument(
  root: unknown,
  env: Env,
  baseDir: string,
): { config?: HooklineConfig; issues: Issue[] } {
  const issues: Issue[] = [];
  if (root === null || root === undefined) root = {};
  if (!isRecord(root)) {
    return {
      issues: [
        {
          at: [],
          message: `the config must be a mapping (key: value) at the top level, got ${describe(root)}`,
        },
      ],
    };
  }
  validate(rootSchema, root, [], issues);

  const envIssues: Issue[] = [];
  const expanded = expandTree(root, env, [], envIssues) as Record<string, unknown>;
  issues.push(...envIssues);

  const server = buildServer(present(expanded.server), issues);

  const rawSources = asList(expanded.sources, "sources", issues);
  const sourceIds = collectIds(rawSources, "sources", issues);
  const sources = rawSources.map((raw, i) => buildSource(raw, i, envIssues, issues));

  const rawTargets = asList(expanded.targets, "targets", issues);
  const targetIds = collectIds(rawTargets, "targets", issues);
  const targetContext = { requireHttps: server?.requireHttpsTargets ?? false, baseDir };
  const targets = rawTargets.map((raw, i) => buildTarget(raw, i, issues, targetContext));

  const rawRoutes = asList(expanded.routes, "routes", issues);
  const routes = rawRoutes.map((raw, i) => buildRoute(raw, i, sourceIds, targetIds, issues));

  const retention = buildRetention(present(expanded.retention), issues);
  const ingest = buildIngest(present(expanded.ingest), issues);
  // Per-key ordering follows one acceptance order: BullMQ's job numbers of one ingest queue
  // (packages/queue's ingest-floor.ts). Shards number their jobs each on their own, so there is
  // no order across them, and an order made up across shards would need a Redis call that
  // touches every shard's slot: ordered routes need a single shard.
  if (ingest !== undefined && ingest.shards > 1)
    rawRoutes.forEach((raw, i) => {
      if (isRecord(raw) && raw.ordering_key !== undefined)
        issues.push({
          at: ["routes", i, "ordering_key"],
          message: `per-key ordering needs ingest.shards: 1 (it is ${ingest.shards}): shards have no common acceptance order`,
        });
    });
  const worker = buildWorker(present(expanded.worker), issues);
  const alerts = asList(expanded.alerts, "alerts", issues).map((raw, i) => buildAlert(raw, i, issues));
  const admin = buildAdmin(present(expanded.admin), issues);

  // An issue below a path whose ${VAR} failed to expand is a consequence, not a second problem.
  const kept = issues.filter(
    (issue) => envIssues.includes(issue) || !envIssues.some((envIssue) => startsWith(issue.at, envIssue.at)),
  );
  if (
    kept.length > 0 ||
    server === undefined ||
    retention === undefined ||
    ingest === undefined ||
    worker === undefined ||
    admin === undefined
  )
    return { issues: kept };
  return {
    issues: [],
    config: {
      server,
      sources: sources.filter((s): s is SourceConfig => s !== undefined),
      targets: targets.filter((t): t is TargetConfig => t !== undefined),
      routes: routes.filter((r): r is RouteConfig => r !== undefined),
      retention,
      ingest,
      worker,
      alerts: alerts.filter((a): a is AlertConfig => a !== undefined),
      admin,
    },
  };
}

/** Where each issue sits in the file, so issues come out in file order with a line number. */
function locate(doc: Document, at: readonly PathSegment[]): number | undefined {
  for (let length = at.length; length > 0; length--) {
    const node: unknown = doc.getIn(at.slice(0, length), true);
    if (isRecord(node) && Array.isArray(node.range) && typeof node.range[0] === "number")
      return node.range[0];
  }
  return undefined;
}

export interface LoadOptions {
  /** Where relative file paths in the config (`targets[].tls`) start; default the working directory. */
  readonly baseDir?: string;
}

/** Parses and validates hookline.yaml text. `env` supplies ${VAR} values; it is never process.env implicitly. */
export function loadConfigText(text: string, env: Env, options: LoadOptions = {}): LoadConfigResult {
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: true });
    if (doc.errors.length > 0) {
      return {
        ok: false,
        issues: doc.errors.map((error): ConfigIssue => {
          const firstLine = (error.message.split("\n")[0] ?? error.message).replace(/:$/, "");
          const line = error.linePos?.[0].line;
          return line === undefined
            ? { path: "", message: `YAML syntax error: ${firstLine}` }
            : { path: "", message: `YAML syntax error: ${firstLine}`, line };
        }),
      };
    }
    const { config, issues } = validateDocument(
      doc.toJS({ maxAliasCount: 1000 }),
      env,
      resolve(options.baseDir ?? "."),
    );
    if (config !== undefined) return { ok: true, config };
    const located = issues.map((issue, index) => ({
      issue,
      index,
      offset: locate(doc, issue.at),
    }));
    located.sort((a, b) => (a.offset ?? -1) - (b.offset ?? -1) || a.index - b.index);
    return {
      ok: false,
      issues: located.map(({ issue, offset }): ConfigIssue => {
        const path = formatPath(issue.at);
        return offset === undefined
          ? { path, message: issue.message }
          : { path, message: issue.message, line: lineCounter.linePos(offset).line };
      }),
    };
  } catch (error) {
    return {
      ok: false,
      issues: [{ path: "", message: `internal error while loading the config: ${errorText(error)}` }],
    };
  }
}

/** Reads and loads a config file; a missing or unreadable file is one issue with path "". */
export function loadConfigFile(path: string, env: Env): LoadConfigResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = isRecord(error) && typeof error.code === "string" ? error.code : undefined;
    const shown = resolve(path);
    const message =
      code === "ENOENT"
        ? `config file not found: ${shown} (set HOOKLINE_CONFIG, or copy hookline.example.yaml)`
        : code === "EISDIR"
          ? `config path is a directory, not a file: ${shown}`
          : code === "EACCES"
            ? `cannot read config file ${shown}: permission denied`
            : `cannot read config file ${shown}: ${errorText(error)}`;
    return { ok: false, issues: [{ path: "", message }] };
  }
  return loadConfigText(text, env, { baseDir: dirname(resolve(path)) });
}
