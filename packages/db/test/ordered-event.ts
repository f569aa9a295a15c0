// The ordering tests' event: one delivery to target "t", under `key` (null: no key), at `seq`.
import { type IngestInput, newId } from "@hookline/db";

export function orderedEvent(key: string | null, seq: bigint): IngestInput {
  return {
    eventId: newId("evt"),
    sourceId: "s",
    eventType: "x",
    dedupeKey: newId("evt"),
    providerId: null,
    receivedAt: new Date(),
    headers: {},
    body: Buffer.from("{}"),
    contentType: "application/json",
    dedupeWindowMs: 60_000,
    targetIds: ["t"],
    orderingKeys: [key],
    orderingSeq: seq,
  };
}
