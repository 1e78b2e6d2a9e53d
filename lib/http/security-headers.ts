/**
 * The page Content-Security-Policy (set in proxy.ts, pages only: the API answers JSON, and a proxy
 * on every API request halved throughput here). The static headers every response carries are in
 * next.config.ts.
 */

/** Inline script runs only with this response's nonce (Next.js puts it on its own scripts). */
export function contentSecurityPolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    // React's development build evaluates code for its error overlay; never in production.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? " ws: wss:" : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export const HSTS = "max-age=31536000; includeSubDomains";
