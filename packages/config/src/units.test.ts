import { describe, expect, it } from "vitest";
import { parseByteSize, parseDuration, parseRateLimit } from "./index.js";

describe("parseDuration", () => {
  it.each([
    ["200ms", 200],
    ["2s", 2_000],
    ["5m", 300_000],
    ["72h", 259_200_000],
    ["30d", 2_592_000_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1_500],
    [" 10s ", 10_000],
    ["0", 0],
    ["0s", 0],
  ])("%s = %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "300", "5x", "s", "-1s", "5 m", "1.2.3s", "5M", "1h-", "10mss"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe("parseByteSize", () => {
  it.each([
    ["1mb", 1_048_576],
    ["512kb", 524_288],
    ["1gb", 1_073_741_824],
    ["100b", 100],
    ["100", 100],
    ["1MB", 1_048_576],
    ["2mib", 2_097_152],
    ["1.5kb", 1_536],
  ])("%s = %d bytes", (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(["", "mb", "1tb", "-1mb", "1.5", "1 megabyte", "1e6"])("rejects %j", (text) => {
    expect(parseByteSize(text)).toBeNull();
  });
});

describe("parseRateLimit", () => {
  it.each([
    ["50/s", { max: 50, durationMs: 1_000 }],
    ["1000/m", { max: 1000, durationMs: 60_000 }],
    ["10/h", { max: 10, durationMs: 3_600_000 }],
    ["100/10s", { max: 100, durationMs: 10_000 }],
  ])("%s", (text, limit) => {
    expect(parseRateLimit(text)).toEqual(limit);
  });

  it.each(["", "50", "0/s", "50/x", "50/0s", "-5/s", "1.5/s", "/s"])("rejects %j", (text) => {
    expect(parseRateLimit(text)).toBeNull();
  });
});
