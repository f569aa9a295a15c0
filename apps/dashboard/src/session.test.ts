import { describe, expect, it } from "vitest";
import { localPath } from "./http";
import { fromSameOrigin } from "./session";

describe("fromSameOrigin", () => {
  const host = "127.0.0.1:8081";
  it("accepts same-origin browsers and clients that say nothing", () => {
    expect(fromSameOrigin({ host, origin: `http://${host}`, secFetchSite: "same-origin" })).toBe(true);
    expect(fromSameOrigin({ host, origin: undefined, secFetchSite: undefined })).toBe(true);
  });
  it("refuses other sites, opaque origins and garbage", () => {
    expect(fromSameOrigin({ host, origin: "http://evil.example", secFetchSite: undefined })).toBe(false);
    expect(fromSameOrigin({ host, origin: `http://${host}`, secFetchSite: "cross-site" })).toBe(false);
    expect(fromSameOrigin({ host, origin: undefined, secFetchSite: "same-site" })).toBe(false);
    expect(fromSameOrigin({ host, origin: "null", secFetchSite: undefined })).toBe(false);
    expect(fromSameOrigin({ host: undefined, origin: `http://${host}`, secFetchSite: undefined })).toBe(
      false,
    );
  });
});

describe("localPath", () => {
  it("keeps paths on this server and turns anything else into /", () => {
    expect(localPath("/deliveries?status=failed")).toBe("/deliveries?status=failed");
    for (const bad of [
      undefined,
      "",
      "https://evil.example/",
      "//evil.example",
      "/\\evil.example",
      "evil",
      "/ x",
    ]) {
      expect(localPath(bad)).toBe("/");
    }
  });
});
