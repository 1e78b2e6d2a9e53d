import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite loads its WebAssembly and data files relative to its own module, and postgres.js
  // opens raw sockets: both must stay plain Node requires rather than bundled code.
  // pino and prom-client keep process-wide state (one logger, one metrics registry) that must
  // not be duplicated across bundles.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "pino", "pino-pretty", "prom-client"],
  poweredByHeader: false,
  typedRoutes: false,
  // Static security headers on every response; the page CSP needs a nonce and is set in proxy.ts.
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          // For browsers that predate CSP's frame-ancestors.
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
};

export default nextConfig;
