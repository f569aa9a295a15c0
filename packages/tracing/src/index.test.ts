import { describe, expect, it } from "vitest";
import { tracingFromEnv } from "./index";

describe("tracingFromEnv", () => {
  it("is off unless the standard variables turn it on", () => {
    expect(tracingFromEnv({})).toBeNull();
    expect(
      tracingFromEnv({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }),
    ).toBeNull();
    expect(tracingFromEnv({ OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" })).toBeNull();
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: "zipkin" })).toBeNull();
  });

  it("an OTLP endpoint alone turns it on, with the traces path added", () => {
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })).toEqual({
      exporter: "otlp",
      url: "http://collector:4318/v1/traces",
      serviceName: "hookline",
    });
    expect(
      tracingFromEnv({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/custom",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://other:4318",
        OTEL_SERVICE_NAME: "hookline-eu",
      }),
    ).toEqual({ exporter: "otlp", url: "http://collector:4318/custom", serviceName: "hookline-eu" });
  });

  it("OTEL_TRACES_EXPORTER names the exporter; otlp defaults to the local collector", () => {
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: "otlp" })).toMatchObject({
      exporter: "otlp",
      url: "http://localhost:4318/v1/traces",
    });
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: "console" })).toEqual({
      exporter: "console",
      serviceName: "hookline",
    });
  });
});
