import { defineConfig } from "vitest/config";

// Two projects: fast unit tests of the client library, and end-to-end tests that drive Debian's Chromium against
// the real server process. `npm test` runs both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          globalSetup: ["test/e2e/globalSetup.ts"],
        },
      },
    ],
  },
});
