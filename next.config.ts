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
  // The icon is app/icon.svg, linked from every page; a browser that asks for /favicon.ico before
  // it has read the page's links (a navigation cut short) is sent there rather than a 404.
  async redirects() {
    return [{ source: "/favicon.ico", destination: "/icon.svg", permanent: true }];
  },
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
