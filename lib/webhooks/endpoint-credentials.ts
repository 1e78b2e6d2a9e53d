import "server-only";
import { decrypt, encrypt } from "@/lib/crypto/encryption";

/**
 * The one place an endpoint's receiver credentials (custom headers, auth secrets) are encrypted
 * and decrypted. Each is one JSON value per column.
 */

export type AuthSecret = { token: string } | { password: string } | { client_secret: string };

const HEADERS = "webhook_endpoints.headers";
const AUTH = "webhook_endpoints.auth";

export function sealHeaders(orgId: string, headers: Record<string, string>): string {
  return encrypt(JSON.stringify(headers), { orgId, column: HEADERS });
}

export function sealAuth(orgId: string, secret: AuthSecret): string {
  return encrypt(JSON.stringify(secret), { orgId, column: AUTH });
}

// Decrypting is cheap but not free, and these are read on every attempt.
const cache = new Map<string, unknown>();
function open<T>(orgId: string, column: string, ciphertext: string): T {
  // The ciphertext is bound to its org and column: the cache key must be too.
  const key = `${orgId}|${column}|${ciphertext}`;
  let v = cache.get(key);
  if (v === undefined) {
    v = JSON.parse(decrypt(ciphertext, { orgId, column }));
    if (cache.size > 10_000) cache.clear();
    cache.set(key, v);
  }
  return v as T;
}

export const openHeaders = (orgId: string, ciphertext: string) => open<Record<string, string>>(orgId, HEADERS, ciphertext);
export const openAuth = (orgId: string, ciphertext: string) => open<Record<string, string>>(orgId, AUTH, ciphertext);
