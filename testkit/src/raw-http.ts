import { connect } from "node:net";

/** Bytes to write, or a pause between writes (a slow client). */
export type RawPart = string | Buffer | { readonly pauseMs: number };

export interface RawResponse {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawExchange {
  /** Every complete response the server sent on the connection, in order. */
  readonly responses: readonly RawResponse[];
  /** Everything received, as latin1. */
  readonly text: string;
  /** The write failed because the server closed or reset the connection first. */
  readonly writeFailed: boolean;
}

export interface RawOptions {
  /** Half-close after the last part (the request is complete); default false. */
  readonly end?: boolean;
  /** Once a response is complete, wait this long for more before returning; default 150 ms. */
  readonly settleMs?: number;
  /** Give up (returning what arrived) after this long; default 15 s. */
  readonly timeoutMs?: number;
}

/** Parses complete HTTP/1.1 responses out of `text` (content-length or chunked bodies). */
export function parseResponses(text: string, closed: boolean): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  for (;;) {
    const headEnd = rest.indexOf("\r\n\r\n");
    if (headEnd < 0) return out;
    const [statusLine = "", ...lines] = rest.slice(0, headEnd).split("\r\n");
    const status = Number(statusLine.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let after = rest.slice(headEnd + 4);
    let body: string;
    if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      if (after.length < length) return out;
      body = after.slice(0, length);
      after = after.slice(length);
    } else if (headers["transfer-encoding"]?.includes("chunked")) {
      body = "";
      for (;;) {
        const lineEnd = after.indexOf("\r\n");
        if (lineEnd < 0) return out;
        const size = Number.parseInt(after.slice(0, lineEnd), 16);
        if (after.length < lineEnd + 2 + size + 2) return out;
        body += after.slice(lineEnd + 2, lineEnd + 2 + size);
        after = after.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = "";
    } else {
      if (!closed) return out;
      body = after;
      after = "";
    }
    out.push({ status, headers, body: Buffer.from(body, "latin1").toString("utf8") });
    rest = after;
  }
}

/**
 * Sends bytes over one raw TCP connection exactly as given (malformed framing included) and
 * collects what the server answers, even when it answers before the upload is done.
 */
export function rawHttp(
  port: number,
  parts: readonly RawPart[],
  options: RawOptions = {},
): Promise<RawExchange> {
  const settleMs = options.settleMs ?? 150;
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    let writeFailed = false;
    let done = false;
    let settle: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(settle);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ responses: parseResponses(text, true), text, writeFailed });
    };
    const giveUp = setTimeout(finish, options.timeoutMs ?? 15_000);
    let written = false;
    const maybeSettle = () => {
      if (!written || parseResponses(text, false).length === 0) return;
      clearTimeout(settle);
      settle = setTimeout(finish, settleMs);
    };
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      maybeSettle();
    });
    socket.on("error", () => {
      writeFailed = true;
      finish();
    });
    socket.on("close", finish);
    socket.on("connect", async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        if (typeof part === "object" && !Buffer.isBuffer(part)) {
          await new Promise((r) => setTimeout(r, part.pauseMs));
          continue;
        }
        if (!socket.write(part)) await new Promise((r) => socket.once("drain", r));
      }
      if (options.end) socket.end();
      written = true;
      maybeSettle();
    });
  });
}
