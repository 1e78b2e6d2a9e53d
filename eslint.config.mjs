import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([".next/**", "node_modules/**", ".data/**", "db/migrations/**", "next-env.d.ts"]),
  {
    // Configuration is read in one place (lib/env.ts), validated with zod.
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration through lib/env.ts." },
      ],
    },
  },
  {
    files: ["lib/env.ts", "instrumentation.ts", "server.mjs", "tests/**", "bench/**", "bin/**", "drizzle.config.ts", "vitest.config.ts", "eslint.config.mjs"],
    rules: { "no-restricted-properties": "off" },
  },
]);
