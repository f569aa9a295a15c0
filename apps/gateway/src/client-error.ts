import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { newId } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import type { IngestObserver } from "./app";
import { type ErrorBody, GATEWAY_ERROR_STATUS, type GatewayErrorCode } from "./errors";
import { LogLimiter } from "./log-limiter";

const REASON: Readonly<Record<number, string>> = {
  400: "Bad Request",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/** Node's parser error codes → our reason codes. Anything else the parser refuses is malformed. */
function codeFor(error: NodeJS.ErrnoException): GatewayErrorCode {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return "headers_too_large";
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return "request_timeout";
    default:
      return "malformed_request";
  }
}

const MESSAGES: Partial<Record<GatewayErrorCode, string>> = {
  headers_too_large: "the request headers exceed 16 KiB",
  request_timeout: "the request did not arrive in time",
  malformed_request: "the request is not valid HTTP/1.1",
};

/**
 * Requests Node's HTTP parser refuses (malformed or oversized headers, bad framing, a request
 * that never finishes arriving), and CONNECT requests, which Node hands to a 'connect' listener
 * instead of the app, never reach the app. Answer them as the app would, with a reason code in
 * a JSON body, and log (rate-limited) and count them like any other rejection.
 */
export function handleClientErrors(
  server: Server,
  deps: { readonly logger: Logger; readonly observer?: IngestObserver; readonly now: () => number },
): void {
  const limiter = new LogLimiter(20, 10_000);
  const refuse = (
    socket: Duplex,
    code: GatewayErrorCode,
    message: string,
    log: Record<string, unknown>,
    extraHeaders = "",
  ) => {
    const status = GATEWAY_ERROR_STATUS[code];
    const requestId = newId("req");
    deps.observer?.observe("", code, 0);
    const suppressed = limiter.admit(code, deps.now());
    if (suppressed !== null) {
      deps.logger.warn(
        { requestId, code, ...log, suppressed: suppressed || undefined },
        `rejected: ${message}`,
      );
    }
    // Answer only if nothing of a response has gone out on this connection yet.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!inFlight?.headersSent && socket.writable) {
      const body: ErrorBody = { code, message, request_id: requestId };
      const json = JSON.stringify(body);
      socket.write(
        `HTTP/1.1 ${status} ${REASON[status] ?? "Bad Request"}\r\n` +
          "Content-Type: application/json\r\n" +
          `Content-Length: ${Buffer.byteLength(json)}\r\n` +
          extraHeaders +
          "Connection: close\r\n\r\n" +
          json,
      );
    }
    socket.destroy();
  };
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A client that hung up is not a rejection: there is no one to answer.
    if (error.code === "ECONNRESET" || error.code === "EPIPE" || !socket.writable) {
      socket.destroy();
      return;
    }
    const code = codeFor(error);
    refuse(socket, code, MESSAGES[code] ?? code, { parser: error.code });
  });
  // Without a listener Node closes a CONNECT's socket with no answer at all.
  server.on("connect", (_request: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => socket.destroy());
    refuse(socket, "method_not_allowed", "CONNECT is not allowed; providers POST", {}, "Allow: POST\r\n");
  });
}
