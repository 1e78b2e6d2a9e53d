import type { NextConfig } from "next";
import { STATIC_HEADERS } from "./server/static-headers.mjs";

const nextConfig: NextConfig = {
  // PGlite loads its WebAssembly and data files relative to its own module, and postgres.js
  // opens raw sockets: both must stay plain Node requires rather than bundled code.
  // pino and prom-client keep process-wide state (one logger, one metrics registry) that must
  // not be duplicated across bundles.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "pino", "pino-pretty", "prom-client"],
  poweredByHeader: false,
  typedRoutes: false,
  // Static security headers on every response (server/static-headers.mjs); the page CSP needs a
  // nonce and is set in proxy.ts.
  async headers() {
    return [
      {
        source: "/:path*",
        headers: STATIC_HEADERS.map(([key, value]) => ({ key, value })),
      },
    ];
  },
};

export default nextConfig;
