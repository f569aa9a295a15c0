import { defineConfig } from "vitest/config";

// One config, three projects: pure unit tests beside the code, integration tests per app
// (real Postgres, Redis and loopback HTTP; each file gets its own database and queue prefix),
// and the long fault suite, which only runs via `pnpm test:faults`.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts"],
          benchmark: { include: ["packages/*/bench/**/*.bench.ts"] },
        },
      },
      {
        test: {
          name: "integration",
          benchmark: { include: [] },
          include: ["apps/*/test/**/*.test.ts", "packages/*/test/**/*.test.ts"],
          exclude: ["**/*.faults.test.ts"],
          globalSetup: ["testkit/src/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "faults",
          benchmark: { include: [] },
          include: ["apps/*/test/**/*.faults.test.ts"],
          globalSetup: ["testkit/src/global-setup.ts"],
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
