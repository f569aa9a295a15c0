// Closed-loop load for the ingest phase: N connections, each sending the same signed request
// as soon as the previous answer arrived. autocannon by default; wrk when installed (it costs
// the shared CPU less, so the server under test gets more of it).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import type { SignedRequest } from "./payload";
import type { LoadGenerator } from "./settings";

export interface IngestLoadResult {
  /** 2xx answers per second over the measured window. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly seconds: number;
}

export interface IngestLoad {
  readonly url: string;
  readonly request: SignedRequest;
  readonly connections: number;
  readonly seconds: number;
}

async function withAutocannon(load: IngestLoad): Promise<IngestLoadResult> {
  const result = await autocannon({
    url: load.url,
    method: "POST",
    headers: load.request.headers,
    body: load.request.body,
    connections: load.connections,
    pipelining: 1,
    duration: load.seconds,
  });
  const ok = result["2xx"];
  return {
    rps: ok / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
  };
}

function luaString(value: string): string {
  return `[==[${value}]==]`;
}

async function withWrk(load: IngestLoad): Promise<IngestLoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "hookline-wrk-"));
  const script = join(dir, "post.lua");
  const headerLines = Object.entries(load.request.headers)
    .map(([k, v]) => `wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`)
    .join("\n");
  writeFileSync(
    script,
    `wrk.method = "POST"
wrk.body = ${luaString(load.request.body.toString("utf8"))}
${headerLines}
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("BENCHJSON {\\"requests\\":%.0f,\\"duration_us\\":%.0f,\\"p50_us\\":%.0f,\\"p99_us\\":%.0f,\\"non2xx\\":%.0f,\\"errors\\":%.0f}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), non2xx, errors))
end
`,
  );
  try {
    const [stdout, stderr] = await new Promise<[string, string]>((done, fail) => {
      execFile(
        "wrk",
        ["-t1", `-c${load.connections}`, `-d${load.seconds}s`, "--timeout", "10s", "-s", script, load.url],
        { maxBuffer: 1 << 20 },
        (error, out, err) =>
          error ? fail(new Error(`wrk failed: ${error.message}\n${err}`)) : done([out, err]),
      );
    });
    const line = stdout.split("\n").find((l) => l.startsWith("BENCHJSON "));
    if (!line) throw new Error(`wrk printed no summary:\n${stdout}\n${stderr}`);
    const s = JSON.parse(line.slice("BENCHJSON ".length)) as {
      requests: number;
      duration_us: number;
      p50_us: number;
      p99_us: number;
      non2xx: number;
      errors: number;
    };
    const seconds = s.duration_us / 1e6;
    const ok = s.requests - s.non2xx;
    return {
      rps: ok / seconds,
      p50Ms: s.p50_us / 1000,
      p99Ms: s.p99_us / 1000,
      ok,
      non2xx: s.non2xx,
      errors: s.errors,
      seconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runIngestLoad(generator: LoadGenerator, load: IngestLoad): Promise<IngestLoadResult> {
  return generator === "wrk" ? withWrk(load) : withAutocannon(load);
}
