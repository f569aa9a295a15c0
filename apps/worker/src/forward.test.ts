import { describe, expect, it } from "vitest";
import { RESPONSE_EXCERPT_BYTES, responseExcerpt } from "./forward";

describe("responseExcerpt", () => {
  it("keeps a short answer as is", () => {
    expect(responseExcerpt(Buffer.from('{"ok":true}'))).toBe('{"ok":true}');
  });

  it("keeps the first 4 KiB of a longer one", () => {
    const text = `${"a".repeat(RESPONSE_EXCERPT_BYTES)}tail`;
    expect(responseExcerpt(Buffer.from(text))).toBe("a".repeat(RESPONSE_EXCERPT_BYTES));
  });

  it("leaves out a character the 4 KiB boundary cuts", () => {
    const kept = responseExcerpt(Buffer.from(`a${"é".repeat(3000)}`));
    expect(kept).toBe(`a${"é".repeat(2047)}`);
    expect(Buffer.byteLength(kept)).toBe(4095);
  });

  it("replaces NULs and invalid bytes, and still stays within 4 KiB", () => {
    expect(responseExcerpt(Buffer.from([0x6f, 0x6b, 0x00, 0xff]))).toBe("ok\uFFFD\uFFFD");
    const binary = Buffer.alloc(RESPONSE_EXCERPT_BYTES * 2, 0xff);
    expect(Buffer.byteLength(responseExcerpt(binary))).toBeLessThanOrEqual(RESPONSE_EXCERPT_BYTES);
  });
});
