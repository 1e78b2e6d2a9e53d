// The headers every response carries: next.config.ts applies them to what Next.js serves, and
// server/direct.mjs to what the production server answers directly. (The page CSP, which needs a
// nonce, is set in proxy.ts.)
/** @type {ReadonlyArray<readonly [string, string]>} */
export const STATIC_HEADERS = [
  ["X-Content-Type-Options", "nosniff"],
  ["Referrer-Policy", "strict-origin-when-cross-origin"],
  // For browsers that predate CSP's frame-ancestors.
  ["X-Frame-Options", "DENY"],
];
