import { Redactor } from "@hookline/redact";
import { describe, expect, it } from "vitest";
import { bodyViews, bytes, duration, exactSegments, hexDump, prettyBody, relative, utc } from "./format";

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

describe("bodyViews", () => {
  it("shows no secret in any view, the hex dump included, where the secret spans two rows", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    // Starts at byte 10 of a 16-byte row: the hex dump splits it across rows 1 and 2.
    const raw = Buffer.from(`{"k":"abc${secret}","n":1}`);
    const redactor = new Redactor([secret]);
    const views = bodyViews(raw, redactor, { exact: 1024, hex: 1024 });
    const secretHex = (from: number, to: number) =>
      [...Buffer.from(secret.slice(from, to))].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    // What the hex dump of the raw bytes shows of the secret, row by row.
    expect(hexDump(raw, 1024)).toContain(secretHex(0, 6));
    expect(views.hex).not.toContain(secretHex(0, 6));
    expect(views.hex).not.toContain(secretHex(6, 12));
    expect(views.hex).not.toContain(secret.slice(0, 6));
    expect(views.hex).not.toContain(secret.slice(6, 16));
    expect(views.pretty?.text).not.toContain(secret);
    expect(views.segments.map((s) => s.text).join("")).not.toContain(secret);
    expect(views.pretty?.text).toContain("[redacted]");
  });
});
