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
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration through lib/env.ts." }],
    },
  },
  // The layering (see README "Layout"): routes and pages on top, then UI components, then the
  // domain (lib/), then the database (db/). Nothing reaches upwards.
  {
    files: ["lib/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@/app", "@/app/**", "@/components", "@/components/**", "**/app/**", "**/components/**"],
              message: "lib/ is the domain: it must not import routes or UI (app/, components/).",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["db/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(@/lib/(?!env$|events/names$)|(\\.\\./)+lib/)",
              message:
                "db/ is the database layer: it must not import a capability from lib/ (configuration, lib/env, and the event names, lib/events/names, are the exceptions).",
            },
            { group: ["@/app", "@/app/**", "@/components", "@/components/**"], message: "db/ must not import routes or UI." },
          ],
        },
      ],
    },
  },
  {
    files: ["components/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@/db/**", "@/db/*", "drizzle-orm", "drizzle-orm/**", "postgres", "@electric-sql/pglite"],
              allowTypeImports: true,
              message: "components/ must not query the database: call a function in lib/.",
            },
            { regex: "^@/app(/(?!.*/actions$).*)?$", message: "components/ must not import routes or pages (server actions excepted)." },
          ],
        },
      ],
    },
  },
  {
    files: ["lib/env.ts", "instrumentation.ts", "server.mjs", "tests/**", "bench/**", "bin/**", "drizzle.config.ts", "vitest.config.ts", "eslint.config.mjs"],
    rules: { "no-restricted-properties": "off" },
  },
]);
