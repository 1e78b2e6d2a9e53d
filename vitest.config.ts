import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "@": path.resolve(import.meta.dirname),
      // Outside Next.js the guard has nothing to guard: server modules are all we load here.
      "server-only": path.resolve(import.meta.dirname, "tests/helpers/server-only.ts"),
      // next-auth imports these without an extension, which Node's ESM resolver does not complete.
      "next/server": path.resolve(import.meta.dirname, "node_modules/next/server.js"),
      "next/headers": path.resolve(import.meta.dirname, "node_modules/next/headers.js"),
      "next/navigation": path.resolve(import.meta.dirname, "node_modules/next/navigation.js"),
    },
  },
  test: {
    include: ["tests/unit/**/*.test.ts", "tests/integration/**/*.test.ts"],
    globalSetup: ["tests/helpers/global-setup.ts"],
    // Stands in for server.mjs: lets tests give each request a client address.
    setupFiles: ["tests/helpers/peer.ts"],
    pool: "forks",
    // Two cores: two test files at a time, each with its own database handle.
    maxWorkers: 2,
    testTimeout: 30_000,
    env: {
      // A fixed key for encrypting webhook secrets in tests (never used outside them).
      SMARFLE_ENCRYPTION_KEY: "dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LTMyYnk=",
      // Every request writes an access line at info; tests show warnings and errors only.
      LOG_LEVEL: "warn",
    },
    hookTimeout: 60_000,
    // Processed by vite, so the next/* aliases above reach next-auth's imports.
    server: { deps: { inline: ["next-auth"] } },
  },
});
