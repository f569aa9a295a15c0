import type { IncomingMessage } from "node:http";

export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly reason: "body_too_large" | "body_timeout" | "client_gone" };

export interface BodyLimits {
  readonly maxBytes: number;
  /** A body that stops arriving for this long is abandoned (slow-loris uploads). */
  readonly idleTimeoutMs: number;
}

/** After a 413 the rest of the upload is read and dropped, up to this much, so the client sees the answer instead of a reset. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

/**
 * Reads the raw body as bytes, enforcing the limit while reading: a declared or actual size
 * over the limit stops buffering at once. The request is never re-serialised.
 */
export function readRawBody(incoming: IncomingMessage, limits: BodyLimits): Promise<BodyResult> {
  const declared = Number(incoming.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    drainAndDiscard(incoming);
    return Promise.resolve({ ok: false, reason: "body_too_large" });
  }
  if (incoming.readableEnded) return Promise.resolve({ ok: true, body: Buffer.alloc(0) });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onGone);
      incoming.off("close", onClose);
      resolve(result);
    };
    const onIdle = () => {
      finish({ ok: false, reason: "body_timeout" });
      drainAndDiscard(incoming);
    };
    let idle = setTimeout(onIdle, limits.idleTimeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) {
        finish({ ok: false, reason: "body_too_large" });
        drainAndDiscard(incoming);
        return;
      }
      chunks.push(chunk);
      idle.refresh();
    };
    const onEnd = () =>
      finish({ ok: true, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    const onGone = () => finish({ ok: false, reason: "client_gone" });
    const onClose = () => {
      if (!incoming.readableEnded) onGone();
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onGone);
    incoming.on("close", onClose);
    idle = idle.unref();
  });
}

/**
 * Reads and drops what is left of a body that will not be used, within the same bounds as after
 * a 413: the client sees the answer, and the connection stays usable for its next request.
 */
export function drainAndDiscard(incoming: IncomingMessage): void {
  if (incoming.readableEnded) return;
  let drained = 0;
  const stop = () => {
    clearTimeout(timer);
    incoming.socket?.destroy();
  };
  const timer = setTimeout(stop, DRAIN_MAX_MS).unref();
  incoming.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_MAX_BYTES) stop();
  });
  incoming.once("end", () => clearTimeout(timer));
  incoming.once("close", () => clearTimeout(timer));
  incoming.resume();
}
