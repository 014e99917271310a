import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    // End-to-end runs sign, enroll and poll against a real simulator process on 2 cores.
    testTimeout: 120_000,
    pool: "forks",
  },
});
