// Child processes under test: each server runs in its own process so it never shares an event
// loop with the load generator, and its peak memory can be read from /proc.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..", "..");

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Extra node flags (e.g. --cpu-prof), placed after --import tsx. */
  readonly nodeFlags?: readonly string[];
  /** false: a compiled entry point (Hookline's dist/), run by node alone. Default true. */
  readonly typescript?: boolean;
  readonly ipc?: boolean;
}

/** Runs an entry point with node: TypeScript through `--import tsx`, or compiled JavaScript. */
export function spawnNode(name: string, options: SpawnOptions): Child {
  const loader = options.typescript === false ? [] : ["--import", "tsx"];
  const proc = spawn(process.execPath, [...loader, ...(options.nodeFlags ?? []), ...options.args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: options.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString("utf8"));
    if (tail.length > 40) tail.shift();
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  const exited = new Promise<void>((done) => proc.once("exit", () => done()));
  return {
    name,
    proc,
    output: () => tail.join(""),
    stop: async (graceMs = 15_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      // A process still up after its graceful stop gets SIGUSR2 (see preload-exit.mjs), then SIGKILL.
      const nudge = setTimeout(() => proc.kill("SIGUSR2"), Math.min(10_000, graceMs / 2));
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(nudge);
      clearTimeout(timer);
    },
  };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Polls `url` until it answers 200, or fails with the child's output. */
export async function waitHealthy(child: Child, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.proc.exitCode !== null) {
      throw new Error(`${child.name} exited with ${child.proc.exitCode}:\n${child.output()}`);
    }
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${child.name} not healthy after ${timeoutMs} ms:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for the first IPC message from a child (the bench servers report their port). */
export function firstMessage<T>(child: Child, timeoutMs = 30_000): Promise<T> {
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${child.name} sent nothing:\n${child.output()}`)),
      timeoutMs,
    );
    child.proc.once("message", (message) => {
      clearTimeout(timer);
      done(message as T);
    });
    child.proc.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${child.name} exited with ${code}:\n${child.output()}`));
    });
  });
}

/**
 * The fields of a /proc/<pid>/stat line after `pid (comm)`: comm may contain spaces, so read
 * after the last ')'. Index 1 is ppid; 11-14 are utime, stime, cutime, cstime in clock ticks.
 */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(statFields(stat)[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function statusKb(pid: number, field: "VmHWM" | "VmRSS"): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(
      new RegExp(`^${field}:\\s+(\\d+) kB`, "m"),
    );
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Peak resident set (VmHWM) of a process and all its descendants, summed, in MB. */
export function peakRssMb(pid: number): number {
  let kb = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    kb += statusKb(p, "VmHWM");
    stack.push(...children(p));
  }
  return Math.round((kb / 1024) * 10) / 10;
}

/** CPU seconds (user + system) used so far by a process and its live descendants. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = statFields(stat);
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
    stack.push(...children(p));
  }
  return ticks / 100;
}

/** Busy CPU seconds of the whole machine so far (all cores, from /proc/stat). */
export function machineCpuSeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / 100;
}

/** CPU seconds so far of each process whose command name is `comm` (e.g. postgres, redis-server), by pid. */
export function cpuSecondsByName(
  comm: string,
  keep: (cmdline: string) => boolean = () => true,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (name !== comm) continue;
      if (!keep(readFileSync(`/proc/${entry}/cmdline`, "utf8"))) continue;
      const fields = statFields(stat);
      out.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // exited
    }
  }
  return out;
}

/**
 * CPU seconds of the bench process plus the children it has waited for: an external load
 * generator (wrk) is reaped when its run ends, so its CPU counts as the load generator's, not
 * as "everything else". Servers under test are still running then and are not included.
 */
export function ownCpuSeconds(): number {
  const f = statFields(readFileSync("/proc/self/stat", "utf8"));
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

/** A group's CPU so far: one total, or per pid (processes come and go; only growth counts). */
export type CpuGroups = Record<string, () => number | Map<number, number>>;

function used(before: number | Map<number, number>, after: number | Map<number, number>): number {
  if (typeof before === "number" || typeof after === "number") {
    return Math.max(0, (typeof after === "number" ? after : 0) - (typeof before === "number" ? before : 0));
  }
  let total = 0;
  for (const [pid, seconds] of after) total += Math.max(0, seconds - (before.get(pid) ?? 0));
  return total;
}

/** Starts a CPU meter over named groups; `stop()` gives cores used per group over the interval. */
export function cpuMeter(groups: CpuGroups): { stop(): Record<string, number> } {
  const t0 = performance.now();
  const machine0 = machineCpuSeconds();
  const own0 = ownCpuSeconds();
  const before = Object.fromEntries(Object.entries(groups).map(([k, f]) => [k, f()]));
  return {
    stop: () => {
      const seconds = (performance.now() - t0) / 1000;
      const out: Record<string, number> = {};
      let accounted = ownCpuSeconds() - own0;
      out["load generator (bench)"] = accounted / seconds;
      for (const [k, f] of Object.entries(groups)) {
        const u = used(before[k] ?? 0, f());
        accounted += u;
        out[k] = u / seconds;
      }
      out["everything else"] = Math.max(0, machineCpuSeconds() - machine0 - accounted) / seconds;
      out.machine = (machineCpuSeconds() - machine0) / seconds;
      for (const k of Object.keys(out)) out[k] = Math.round((out[k] ?? 0) * 100) / 100;
      return out;
    },
  };
}

/**
 * Postgres processes working for one database: its client backends, plus the server's own
 * background processes (WAL writer, checkpointer, ...). Other databases' backends (other
 * programs on the machine) are left out.
 */
export function postgresFor(database: string): (cmdline: string) => boolean {
  return (cmdline) => cmdline.includes(database) || !/\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/.test(cmdline);
}

/**
 * Waits (up to `maxWaitMs`) until the machine has been nearly idle for one second: other
 * programs on a shared machine would otherwise take CPU from whichever server is measured.
 * Returns the busy cores of the last second sampled.
 */
export async function waitForQuiet(maxBusyCores = 0.25, maxWaitMs = 20_000): Promise<number> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const before = machineCpuSeconds();
    await new Promise((r) => setTimeout(r, 1000));
    const busy = machineCpuSeconds() - before;
    if (busy <= maxBusyCores || performance.now() > deadline) return Math.round(busy * 100) / 100;
  }
}
