import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root, where `node dist/hookline.mjs` (or the source under tsx) runs. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ORPHAN_GUARD = pathToFileURL(fileURLToPath(new URL("./orphan-guard.mjs", import.meta.url))).href;

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface HooklineProcess {
  readonly child: ChildProcess;
  /** stdout lines (pino JSON), as they arrive. */
  readonly lines: string[];
  readonly stderr: string[];
  readonly exited: Promise<ProcessExit>;
  /** Resolves with the first line matching, or rejects when the process exits or time runs out. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  kill(signal: NodeJS.Signals): void;
}

export type LogLine = Record<string, unknown> & { readonly msg?: string };

function parse(line: string): LogLine | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as LogLine) : null;
  } catch {
    return null;
  }
}

/**
 * How the process runs: `compiled` is what `pnpm start` and the image run (dist/, which the
 * integration tests' global setup brings up to date), `tsx` the TypeScript source as `pnpm dev`.
 */
export type Runtime = "compiled" | "tsx";

const ENTRY: Record<Runtime, readonly string[]> = {
  compiled: ["dist/hookline.mjs"],
  tsx: ["--import", "tsx", "apps/cli/src/main.ts"],
};

export interface SpawnOptions {
  readonly runtime?: Runtime;
  /** A network namespace (`ip netns`) to run in: another host, as far as the network goes. */
  readonly netns?: string;
}

/**
 * Runs `hookline <command>` as a real child process (so SIGKILL and SIGTERM are real), with
 * only the environment given plus PATH and HOME.
 */
export function spawnHookline(
  command: "start" | "gateway" | "worker",
  env: Readonly<Record<string, string>>,
  options: SpawnOptions = {},
): HooklineProcess {
  const node = [process.execPath, "--import", ORPHAN_GUARD, ...ENTRY[options.runtime ?? "compiled"], command];
  // `ip netns exec` execs node in place: the child's pid is node's, so signals reach it.
  const [file, ...args] = options.netns ? ["ip", "netns", "exec", options.netns, ...node] : node;
  const child = spawn(file as string, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    lines.push(line);
    const parsed = parse(line);
    if (!parsed) return;
    for (const w of waiters) {
      if (w.match(parsed)) {
        waiters.delete(w);
        w.resolve(parsed);
      }
    }
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => stderr.push(line));
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    stderr,
    exited,
    waitForLine: (match, timeoutMs = 60_000) =>
      new Promise<LogLine>((resolve, reject) => {
        for (const line of lines) {
          const parsed = parse(line);
          if (parsed && match(parsed)) return resolve(parsed);
        }
        const waiter = { match, resolve: (l: LogLine) => finish(() => resolve(l)) };
        const finish = (then: () => void) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          then();
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(
                  `hookline ${command}: no matching log line in ${timeoutMs} ms; last lines: ${lines
                    .slice(-8)
                    .map((l) => parse(l)?.msg ?? l.slice(0, 200))
                    .join(" | ")}; stderr: ${stderr.slice(-5).join(" | ")}`,
                ),
              ),
            ),
          timeoutMs,
        );
        waiters.add(waiter);
        void exited.then((exit) =>
          finish(() =>
            reject(
              new Error(
                `hookline ${command} exited (${exit.code ?? exit.signal}) before the expected log line: ${stderr.slice(-5).join(" | ")}`,
              ),
            ),
          ),
        );
      }),
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

export interface NodeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs node with `args` from the repository root until it exits, with only the environment
 * given plus PATH (a CLI command, the build script), and returns what it printed.
 */
export function runNode(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
