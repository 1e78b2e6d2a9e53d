import { NextResponse, type NextRequest } from "next/server";
import { env } from "@/lib/env";
import { contentSecurityPolicy, HSTS } from "@/lib/http/security-headers";

/**
 * Pages only (see `config.matcher`): a Content-Security-Policy with a fresh nonce, which Next.js
 * reads from the request's CSP header and puts on the scripts it inlines. Strict-Transport-Security
 * when the public URL is https.
 */
export function proxy(request: NextRequest) {
  const e = env();
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const csp = contentSecurityPolicy(nonce, e.NODE_ENV === "development");
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("content-security-policy", csp);
  requestHeaders.set("x-nonce", nonce);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", csp);
  if (e.APP_URL?.startsWith("https://")) response.headers.set("strict-transport-security", HSTS);
  return response;
}

export const config = {
  // Not the API, not static files: their answers run no script, and the API's throughput matters.
  matcher: [
    {
      source: "/((?!api/|_next/static|_next/image|favicon.ico).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
