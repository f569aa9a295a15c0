import { defineConfig } from "vitest/config";

// One config, three projects: pure unit tests beside the code, integration tests per app
// (real Postgres, Redis and loopback HTTP; each file gets its own database and queue prefix),
// and the fault scenarios, which only run via `pnpm test:faults` (CI runs it after `pnpm test`).
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
          // One scenario at a time: each runs its own Postgres, Redis and processes, and two at
          // once on 2 cores would measure the machine, not the recovery.
          fileParallelism: false,
          globalSetup: ["testkit/src/global-setup.ts"],
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
