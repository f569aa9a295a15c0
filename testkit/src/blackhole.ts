import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";

export interface Blackhole {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A loopback address where a TCP connect hangs, as it does to a host that drops packets: a
 * listener in a stopped child process whose accept queue is full, so the kernel drops every
 * further SYN. Deterministic, unlike "some unroutable address" that one network answers at once.
 */
export async function startBlackhole(): Promise<Blackhole> {
  const child = spawn(
    process.execPath,
    [
      "-e",
      "require('node:net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { process.stdout.write(this.address().port + '\\n') })",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  child.kill("SIGSTOP");
  // With backlog 1 the kernel queues two connections; once they sit unaccepted, SYNs are dropped.
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    fillers.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      setTimeout(() => reject(new Error("blackhole: the accept queue did not fill")), 2_000).unref();
    });
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}
