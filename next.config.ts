import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite loads its WebAssembly and data files relative to its own module, and postgres.js
  // opens raw sockets: both must stay plain Node requires rather than bundled code.
  // pino and prom-client keep process-wide state (one logger, one metrics registry) that must
  // not be duplicated across bundles.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "pino", "pino-pretty", "prom-client"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
