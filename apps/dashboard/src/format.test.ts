import type { HooklineConfig } from "@hookline/config";
import { describe, expect, it } from "vitest";
import { bytes, duration, exactSegments, hexDump, prettyBody, relative, utc } from "./format";
import { displayUrl, REDACTED, Redactor } from "./redact";

describe("body views", () => {
  it("pretty-prints JSON and leaves other text as it is", () => {
    expect(prettyBody(Buffer.from('{"a":1,"b":[true]}'))).toEqual({
      kind: "json",
      text: '{\n  "a": 1,\n  "b": [\n    true\n  ]\n}',
    });
    expect(prettyBody(Buffer.from("a=1&b=2"))).toEqual({ kind: "text", text: "a=1&b=2" });
    expect(prettyBody(Buffer.from([0xff, 0xfe, 0x00]))).toBeNull();
  });

  it("shows the exact bytes: text kept, control characters and invalid UTF-8 escaped", () => {
    const body = Buffer.concat([
      Buffer.from('{"a":\t"ü"}\r\n'),
      Buffer.from([0x00, 0xc3, 0x28, 0xe2, 0x82, 0xac]),
    ]);
    expect(exactSegments(body, 1024)).toEqual([
      { text: '{"a":', escape: false },
      { text: "\\t", escape: true },
      { text: '"ü"}', escape: false },
      { text: "\\r", escape: true },
      { text: "\n", escape: false },
      { text: "\\0", escape: true },
      { text: "\\xc3", escape: true },
      { text: "(€", escape: false },
    ]);
    // A multi-byte character cut by the limit is escaped, not guessed.
    expect(exactSegments(Buffer.from("€"), 2)).toEqual([
      { text: "\\xe2", escape: true },
      { text: "\\x82", escape: true },
    ]);
  });

  it("writes a hex dump with offsets and an ASCII column", () => {
    const dump = hexDump(Buffer.from("Hello, webhook world!\n"), 1024).split("\n");
    expect(dump[0]).toBe("00000000  48 65 6c 6c 6f 2c 20 77  65 62 68 6f 6f 6b 20 77  |Hello, webhook w|");
    expect(dump[1]).toBe("00000010  6f 72 6c 64 21 0a                                 |orld!.|");
  });
});

describe("formatting", () => {
  it("writes times, sizes and durations for people", () => {
    const at = new Date("2026-05-29T18:30:05.123Z");
    expect(utc(at)).toBe("2026-05-29 18:30:05");
    expect(relative(at, at.getTime() + 500)).toBe("just now");
    expect(relative(at, at.getTime() + 42_000)).toBe("42s ago");
    expect(relative(at, at.getTime() + 3 * 3_600_000)).toBe("3h ago");
    expect(relative(at, at.getTime() - 30_000)).toBe("in 30s");
    expect(bytes(512)).toBe("512 B");
    expect(bytes(2048)).toBe("2.0 KiB");
    expect(bytes(3 * 1024 * 1024)).toBe("3.0 MiB");
    expect(duration(87)).toBe("87 ms");
    expect(duration(2_500)).toBe("2.50 s");
    expect(duration(null)).toBe("—");
  });
});

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
