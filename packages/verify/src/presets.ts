// Provider presets: each maps a provider name to a generic scheme plus its defaults (headers,
// tolerance, event type, de-duplication key) and the extra headers the provider sends.
import { createHmac, randomUUID } from "node:crypto";
import type { DedupeSource, ValueSource } from "./extract.js";
import type { HeaderName, InternalSpec, SignatureHeader } from "./schemes/types.js";
import { headerName } from "./schemes/types.js";
import type { SignInput, VerifySpec } from "./types.js";

/** The Clarion public key published in Clarion's webhook documentation. */
export const CLARION_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEUTo6buTe5YfARuqL9LEHbfxij5/Y
2eRkCAkNd8zmHfAktsWJcrGQ5jZzG0Rohni7b+4FGqvtZn5JZT64hRRyRg==
-----END PUBLIC KEY-----
`;

export interface Preset {
  readonly name: string;
  /** The registry scheme that does the work. */
  readonly scheme: string;
  /** The VerifySpec fields a user may set (the rest is fixed by the preset). */
  readonly fields: readonly (keyof VerifySpec)[];
  readonly defaults: Omit<InternalSpec, "scheme">;
  readonly eventType: readonly ValueSource[];
  readonly dedupe: readonly DedupeSource[];
  readonly providerId: readonly ValueSource[];
  /** Where `signRequest` puts the event type. */
  readonly eventTypeHeader?: HeaderName;
  /** Lower-cased headers worth keeping with the event beyond those the scheme reads. */
  readonly relevantHeaders?: readonly string[];
  /** Other headers the provider sends (delivery ids, unsigned times, legacy signatures). */
  extraHeaders?(input: SignInput, firstSecret: string | undefined): Record<string, string>;
}

const h = (name: string): { header: string } => ({ header: name.toLowerCase() });
const json = (path: string): { path: readonly string[] } => ({ path: path.split(".") });
const sig = (
  name: string,
  prefix: string,
  algorithm: SignatureHeader["algorithm"] = "sha256",
): SignatureHeader => ({
  ...headerName(name),
  prefix,
  algorithm,
});
const EVENT_TIMESTAMP_DATA = { paths: [["event"], ["timestamp"], ["data"]] } as const;

/** The header(s) the signature travels in, preferred first; messages name the first. */
const signedIn = (...headers: [SignatureHeader, ...SignatureHeader[]]) => ({
  signatureHeaders: headers,
  label: headers[0].name,
});

/** The event type travels in a header (the first of these that is present); signing sets the first. */
const typeInHeader = (...names: [string, ...string[]]) => ({
  eventType: names.map(h),
  eventTypeHeader: headerName(names[0]),
});

const standardWebhooks = (name: string, prefixes: readonly string[]): Preset => ({
  name,
  scheme: "standard-webhooks",
  fields: ["secrets", "publicKey", "toleranceSeconds"],
  defaults: { headerPrefixes: prefixes },
  eventType: [json("type")],
  dedupe: prefixes.map((p) => h(`${p}id`)),
  providerId: [],
});

const presetList: readonly Preset[] = [
  {
    name: "clausum",
    scheme: "hmac",
    fields: ["secrets", "toleranceSeconds"],
    defaults: { ...signedIn(sig("X-Clausum-Signature", "")), format: "stripe" },
    ...typeInHeader("X-Clausum-Event"),
    dedupe: [EVENT_TIMESTAMP_DATA],
    providerId: [],
    relevantHeaders: ["x-clausum-timestamp"],
    // X-Clausum-Timestamp is an unsigned ISO time (the signed one is t= in the signature).
    extraHeaders: (input) => ({
      "X-Clausum-Timestamp": new Date(input.nowMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
    }),
  },
  {
    name: "clarion",
    scheme: "ecdsa",
    fields: ["secrets", "publicKey", "toleranceSeconds"],
    defaults: {
      publicKey: CLARION_PUBLIC_KEY,
      ...signedIn(sig("X-Clarion-Signature", "")),
      encoding: "hex",
      signedContent: "{timestamp}.{body}",
      timestampHeader: "X-Clarion-Timestamp",
      timestampUnit: "ms",
      secretHeader: headerName("X-Clarion-Secret"),
    },
    // Clarion's documentation shows no payload: take `event`, else `type`, when the body has one.
    eventType: [json("event"), json("type")],
    dedupe: [{ paths: [["id"]] }, "body"],
    providerId: [],
  },
  standardWebhooks("klariqo", ["webhook-"]),
  {
    name: "creditclaw",
    scheme: "hmac",
    fields: ["secrets"],
    // The whsec_... string is the key as is (UTF-8), not base64-decoded.
    defaults: signedIn(sig("X-CreditClaw-Signature", "sha256=")),
    ...typeInHeader("X-CreditClaw-Event"),
    dedupe: [EVENT_TIMESTAMP_DATA],
    providerId: [],
  },
  standardWebhooks("standard-webhooks", ["webhook-"]),
  standardWebhooks("svix", ["svix-", "webhook-"]),
  {
    name: "stripe",
    scheme: "hmac",
    fields: ["secrets", "toleranceSeconds"],
    defaults: {
      ...signedIn(sig("Stripe-Signature", "")),
      format: "stripe",
      checkSecret: (s) =>
        /^(sk|rk|pk)_/.test(s)
          ? "looks like a Stripe API key; use the webhook signing secret (whsec_...)"
          : null,
    },
    eventType: [json("type")],
    dedupe: [{ paths: [["id"]] }],
    providerId: [json("id")],
  },
  {
    name: "github",
    scheme: "hmac",
    fields: ["secrets"],
    // X-Hub-Signature-256 is preferred; the legacy SHA-1 header is used only when it is absent.
    defaults: signedIn(sig("X-Hub-Signature-256", "sha256="), sig("X-Hub-Signature", "sha1=", "sha1")),
    ...typeInHeader("X-GitHub-Event"),
    dedupe: [h("X-GitHub-Delivery")],
    providerId: [h("X-GitHub-Delivery")],
    // GitHub still sends the legacy SHA-1 signature beside the SHA-256 one.
    extraHeaders: (input, secret) => ({
      "X-GitHub-Delivery": input.id ?? randomUUID(),
      ...(secret === undefined
        ? {}
        : { "X-Hub-Signature": `sha1=${createHmac("sha1", secret).update(input.body).digest("hex")}` }),
    }),
  },
  {
    name: "shopify",
    scheme: "hmac",
    fields: ["secrets"],
    defaults: {
      ...signedIn(sig("X-Shopify-Hmac-Sha256", ""), sig("shopify-hmac-sha256", "")),
      encoding: "base64",
    },
    ...typeInHeader("X-Shopify-Topic", "shopify-topic"),
    dedupe: [
      h("X-Shopify-Event-Id"),
      h("shopify-event-id"),
      h("X-Shopify-Webhook-Id"),
      h("shopify-webhook-id"),
    ],
    providerId: [
      h("X-Shopify-Event-Id"),
      h("shopify-event-id"),
      h("X-Shopify-Webhook-Id"),
      h("shopify-webhook-id"),
    ],
    extraHeaders: (input) => {
      const id = input.id ?? randomUUID();
      return {
        "X-Shopify-Event-Id": id,
        "X-Shopify-Webhook-Id": id,
        "X-Shopify-Triggered-At": new Date(input.nowMs).toISOString(),
      };
    },
  },
  {
    name: "slack",
    scheme: "hmac",
    fields: ["secrets", "toleranceSeconds"],
    defaults: {
      ...signedIn(sig("X-Slack-Signature", "v0=")),
      timestampHeader: "X-Slack-Request-Timestamp",
      signedContent: "v0:{timestamp}:{body}",
    },
    eventType: [json("event.type"), json("type")],
    dedupe: ["body"],
    providerId: [],
  },
];

export const PRESETS: ReadonlyMap<string, Preset> = new Map(presetList.map((p) => [p.name, p]));

export const PRESET_NAMES: readonly string[] = presetList.map((p) => p.name);
