import type { HooklineConfig } from "@hookline/config";
import { describe, expect, it } from "vitest";
import { displayUrl, REDACTED, Redactor } from "./redact";

describe("Redactor", () => {
  const config = {
    sources: [{ spec: { verify: { scheme: "clausum", secrets: ["clausum-secret-abcdef"] } } }],
    targets: [
      {
        signingSecrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        headers: { Authorization: "Bearer target-token-123456", "X-Tenant": "acme" },
      },
    ],
  } as unknown as Pick<HooklineConfig, "sources" | "targets">;
  const redactor = Redactor.fromConfig(config, "the-admin-token-0987654321");

  it("cuts every configured secret and the admin token out of text", () => {
    const text = [
      "clausum-secret-abcdef",
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "Bearer target-token-123456",
      "token=target-token-123456",
      "the-admin-token-0987654321",
    ].join(" | ");
    expect(redactor.text(text)).toBe(
      [REDACTED, REDACTED, REDACTED, REDACTED, `token=${REDACTED}`, REDACTED].join(" | "),
    );
    // A short header value is not a secret worth cutting out of every page.
    expect(redactor.text("acme")).toBe("acme");
  });

  it("hides credential headers by name and shortens signatures", () => {
    expect(redactor.header("x-api-key", "anything")).toBe(REDACTED);
    expect(redactor.header("x-debug-token", "anything")).toBe(REDACTED);
    expect(redactor.header("authorization", "[redacted]")).toBe(REDACTED);
    expect(redactor.header("webhook-signature", "v1,abcdefghijklmnopqrstuvwxyz0123456789")).toBe(
      "v1,abcdefghijklm…",
    );
    expect(redactor.header("content-type", "application/json")).toBe("application/json");
  });

  it("shows a target URL without credentials or query", () => {
    expect(displayUrl("https://user:pw@hooks.example.com:8443/in/fraud?key=s3cret")).toBe(
      "https://hooks.example.com:8443/in/fraud?…",
    );
    expect(displayUrl("http://127.0.0.1:9001/hooks")).toBe("http://127.0.0.1:9001/hooks");
  });
});

describe("Redactor.bytes", () => {
  const redactor = new Redactor(["s3cret-value-0123456789"]);

  it("cuts every occurrence of a secret out of the bytes, whatever surrounds them", () => {
    const body = Buffer.concat([
      Buffer.from([0xff, 0x00]),
      Buffer.from("a s3cret-value-0123456789 b s3cret-value-0123456789"),
    ]);
    expect(redactor.bytes(body)).toEqual(
      Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from(`a ${REDACTED} b ${REDACTED}`)]),
    );
    expect(redactor.bytes(Buffer.from("nothing here")).toString()).toBe("nothing here");
  });
});
