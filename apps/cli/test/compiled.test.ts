// `pnpm start` as a user runs it: the compiled build in dist/ (scripts/build.mjs), no TypeScript
// compiler anywhere in the process tree, each process small at rest, and an event goes through.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  closeAll,
  eventually,
  freePort,
  type Isolated,
  isolate,
  loadTestConfig,
  REPO_ROOT,
  runNode,
  type Sink,
  sendMessage,
  spawnHookline,
  startSink,
} from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The contract's ceiling for each process of `pnpm start`, at rest. */
const REST_RSS_LIMIT_KB = 150 * 1024;
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

let iso: Isolated;
let sink: Sink;
let dir: string;
const children: ChildProcess[] = [];

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly cmdline: string;
}

/** Every process on the machine, from /proc (linux). */
function processes(): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name in parentheses may hold spaces: the fields after it are fixed.
      const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      found.push({ pid: Number(entry), ppid: Number(after[1]), cmdline });
    } catch {
      // it exited while we looked
    }
  }
  return found;
}

/** `root` and everything below it. */
function tree(root: number): Proc[] {
  const all = processes();
  const inTree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => inTree.has(p.pid));
}

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  if (!line?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(line[1]);
}

async function configFile(port: number, adminPort: number, extra = ""): Promise<string> {
  const path = join(dir, `hookline-${port}.yaml`);
  writeFileSync(
    path,
    `
server: { port: ${port}, host: 127.0.0.1, admin_port: ${adminPort}${extra} }
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["${SECRET}"] }
targets:
  - id: sink
    url: ${sink.url}/hooks
routes:
  - { source: klariqo, targets: [sink] }
`,
  );
  return path;
}

const klariqo = loadTestConfig(
  `sources:\n  - id: klariqo\n    verify: { scheme: klariqo, secrets: ["${SECRET}"] }\n`,
).sources[0];

async function accept(port: number, id: string): Promise<void> {
  if (!klariqo) throw new Error("no source");
  const outcome = await sendMessage(`http://127.0.0.1:${port}`, klariqo, {
    id,
    eventType: "order.created",
    body: Buffer.from(JSON.stringify({ type: "order.created", data: { id } })),
  });
  expect(outcome.kind).toBe("accepted");
}

beforeAll(async () => {
  iso = await isolate("compiled");
  sink = await startSink();
  dir = mkdtempSync(join(tmpdir(), "hookline-compiled-"));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await closeAll(sink, iso);
  rmSync(dir, { recursive: true, force: true });
});

describe("pnpm start", () => {
  it("runs dist/ under plain node, under 150 MB at rest, and delivers", async () => {
    const port = await freePort();
    const adminPort = await freePort([2]);
    const child = spawn("pnpm", ["start"], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        HOOKLINE_CONFIG: await configFile(port, adminPort),
        DATABASE_URL: iso.databaseUrl,
        REDIS_URL: iso.redisUrl,
        HOOKLINE_QUEUE_PREFIX: iso.queuePrefix,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    await eventually(
      () => output.includes('"msg":"gateway listening"') && output.includes('"msg":"worker running"'),
      {
        what: "pnpm start listening",
        timeoutMs: 60_000,
      },
    );

    const running = tree(child.pid ?? -1);
    const hookline = running.filter((p) => p.cmdline.includes("dist/hookline.mjs start"));
    expect(hookline).toHaveLength(1);
    // No TypeScript compiler, no esbuild service, nothing run from the sources.
    for (const p of running) expect(p.cmdline).not.toMatch(/tsx|esbuild|\.ts(\s|$)/);

    await accept(port, "msg_compiled_1");
    await sink.waitFor(1, 30_000);
    expect(JSON.parse(sink.received[0]?.body.toString() ?? "{}")).toEqual({
      type: "order.created",
      data: { id: "msg_compiled_1" },
    });

    // At rest: once the event is delivered and the process has idled a moment.
    await new Promise((r) => setTimeout(r, 1_000));
    for (const p of hookline) expect(rssKb(p.pid)).toBeLessThan(REST_RSS_LIMIT_KB);

    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(0);
  });
});

describe("server.workers: 2", () => {
  it("forks the compiled gateway entry point, and each process takes events", async () => {
    const port = await freePort();
    const adminPort = await freePort([2]);
    const proc = spawnHookline("gateway", {
      HOOKLINE_CONFIG: await configFile(port, adminPort, ", workers: 2"),
      DATABASE_URL: iso.databaseUrl,
      REDIS_URL: iso.redisUrl,
      HOOKLINE_QUEUE_PREFIX: iso.queuePrefix,
    });
    children.push(proc.child);
    await proc.waitForLine((l) => l.msg === "gateway processes listening");
    const forked = tree(proc.child.pid ?? -1).filter((p) => p.cmdline.includes("dist/gateway-process.mjs"));
    expect(forked).toHaveLength(2);
    for (const p of forked) expect(rssKb(p.pid)).toBeLessThan(REST_RSS_LIMIT_KB);
    for (let i = 0; i < 20; i++) await accept(port, `msg_forked_${i}`);
    proc.kill("SIGTERM");
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });
});

describe("check-config", () => {
  const run = (env: Record<string, string>, file: string) =>
    runNode(["dist/hookline.mjs", "check-config", file], env);

  it("refuses HOOKLINE_ADMIN_TOKEN equal to a token of admin.tokens, as the admin server would, without printing it", async () => {
    const file = join(dir, "tokens.yaml");
    writeFileSync(file, `admin:\n  tokens:\n    - { name: ops, token: "\${OPS_TOKEN}", role: operate }\n`);
    const token = "ops-token-0123456789abcdef";
    const same = await run({ OPS_TOKEN: token, HOOKLINE_ADMIN_TOKEN: token }, file);
    expect(same.code).toBe(1);
    const printed = same.stdout + same.stderr;
    expect(printed).toContain('HOOKLINE_ADMIN_TOKEN is the same token as admin.tokens "ops"');
    expect(printed).not.toContain(token);
    const distinct = await run(
      { OPS_TOKEN: token, HOOKLINE_ADMIN_TOKEN: "another-token-0123456789ab" },
      file,
    );
    expect(distinct).toMatchObject({ code: 0 });
  });
});
