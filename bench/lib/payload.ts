// The benchmark's event: a 1 KiB Clausum `fraud.detected` event, signed the way Clausum signs
// (HMAC-SHA256 over `${t}.${body}`, header `X-Clausum-Signature: t=<t>,v1=<hex>`).
import { createHmac } from "node:crypto";

export const PAYLOAD_BYTES = 1024;
export const CLAUSUM_SECRET = "bench-clausum-secret-5f2d8c1e9a7b4f60";
export const EVENT_TYPE = "fraud.detected";

/** Replaced by a zero-padded sequence number, so each end-to-end event has its own de-duplication key. */
const SEQ = "0".repeat(20);
/** Replaced by one of ORDERING_KEYS customers, cycled: the key of the ordered end-to-end phase. */
const CUSTOMER = "cus_XXXX";
/** Distinct ordering keys the events cycle through. */
export const ORDERING_KEYS = 1_000;
/** Where the ordered phase's routes read the key. */
export const ORDERING_POINTER = "/data/customer";

function template(nowMs: number): string {
  const head = {
    event: EVENT_TYPE,
    timestamp: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
    data: {
      case_id: `case_${SEQ}`,
      customer: CUSTOMER,
      reference_number: "CLM-LX9A2B",
      reason: "chargeback",
      amount: { value: 12999, currency: "EUR" },
      merchant: { id: "mer_4f0c2a", name: "Example Outdoor Supplies GmbH", mcc: "5941" },
      card: { brand: "visa", last4: "4242", country: "DE" },
      notes: "",
    },
  };
  const bare = JSON.stringify(head).length;
  head.data.notes = "n".repeat(PAYLOAD_BYTES - bare);
  const text = JSON.stringify(head);
  if (Buffer.byteLength(text) !== PAYLOAD_BYTES) throw new Error("payload is not 1 KiB");
  return text;
}

export interface SignedRequest {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

export function signClausum(body: Buffer, nowMs: number, secret = CLAUSUM_SECRET): Record<string, string> {
  const t = Math.floor(nowMs / 1000);
  const v1 = createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex");
  return {
    "content-type": "application/json",
    "x-clausum-signature": `t=${t},v1=${v1}`,
    "x-clausum-event": EVENT_TYPE,
    "x-clausum-timestamp": new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}

/** One fixed signed request, for the ingest phase (every server gets the same bytes). */
export function fixedRequest(nowMs = Date.now()): SignedRequest {
  const body = Buffer.from(template(nowMs).replace(SEQ, "1".padStart(20, "0")).replace(CUSTOMER, "cus_0001"));
  return { body, headers: signClausum(body, nowMs) };
}

/** Distinct events of the same shape and size, for the end-to-end phases. */
export class EventFactory {
  readonly #text: string;
  readonly #at: number;
  readonly #customerAt: number;
  #seq = 0;

  constructor(
    readonly nowMs = Date.now(),
    readonly salt = Math.floor(Math.random() * 1e9),
  ) {
    this.#text = template(nowMs);
    this.#at = this.#text.indexOf(SEQ);
    this.#customerAt = this.#text.indexOf(CUSTOMER);
    if (this.#customerAt < this.#at) throw new Error("payload template: customer must follow the case id");
  }

  next(): SignedRequest {
    this.#seq++;
    const seq = `${this.salt}${String(this.#seq).padStart(10, "0")}`.padStart(20, "0").slice(-20);
    const customer = `cus_${String(this.#seq % ORDERING_KEYS).padStart(4, "0")}`;
    const t = this.#text;
    const body = Buffer.from(
      t.slice(0, this.#at) +
        seq +
        t.slice(this.#at + SEQ.length, this.#customerAt) +
        customer +
        t.slice(this.#customerAt + CUSTOMER.length),
    );
    return { body, headers: signClausum(body, this.nowMs) };
  }
}
