import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // PBKDF2 at 100 000 iterations and RSA key generation are slow on 2 cores; openssl runs as a child process.
    testTimeout: 60_000,
    pool: "forks",
  },
});
