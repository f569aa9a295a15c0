// Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time per function and per
// package, so PROFILE.md can say where a process spends its CPU.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileLine {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly files: number;
  /** Sampled wall time, and the part of it the process was not idle. */
  readonly totalMs: number;
  readonly busyMs: number;
  readonly functions: readonly ProfileLine[];
  readonly areas: readonly ProfileLine[];
}

/** Which package or part of the runtime a script URL belongs to. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node (runtime)";
  const pnpm = url.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (pnpm?.[1]) return pnpm[1];
  const direct = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (direct?.[1]) return direct[1];
  const own = url.match(/\/(apps|packages)\/([^/]+)\//);
  if (own?.[2]) return `@hookline/${own[2]}`;
  return url.replace(/^file:\/\//, "");
}

function label(frame: CallFrame): string {
  const file = frame.url
    .replace(/^file:\/\/.*?node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
    .replace(/^file:\/\/.*?\/(apps|packages)\//, "$1/");
  const name = frame.functionName || "(anonymous)";
  return file ? `${name} ${file.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}` : name;
}

export function summariseProfiles(dir: string, top = 15): ProfileSummary | null {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  } catch {
    return null;
  }
  if (files.length === 0) return null;
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
      const node = nodes.get(id);
      if (!node) return;
      totalMs += ms;
      if (node.callFrame.functionName === "(idle)") {
        idleMs += ms;
        return;
      }
      const fn = label(node.callFrame);
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
      const area = areaOf(node.callFrame);
      byArea.set(area, (byArea.get(area) ?? 0) + ms);
    });
  }
  const busyMs = totalMs - idleMs;
  const rank = (m: Map<string, number>): ProfileLine[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: busyMs > 0 ? ms / busyMs : 0 }));
  return { files: files.length, totalMs, busyMs, functions: rank(byFunction), areas: rank(byArea) };
}

export function profileMarkdown(title: string, s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `### ${title}`,
    "",
    `${s.files} profile(s); busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s sampled (${pct(s.busyMs / Math.max(1, s.totalMs))}).`,
    "",
    "| self time by package | ms | share of busy |",
    "|---|---:|---:|",
    ...s.areas.map((a) => `| ${a.name} | ${a.ms} | ${pct(a.share)} |`),
    "",
    "| self time by function | ms | share of busy |",
    "|---|---:|---:|",
    ...s.functions.map((f) => `| \`${f.name.replaceAll("|", "\\|")}\` | ${f.ms} | ${pct(f.share)} |`),
    "",
  ];
  return lines.join("\n");
}
