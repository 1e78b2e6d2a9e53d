import "server-only";
import { decrypt, encrypt } from "@/lib/crypto/encryption";

/**
 * The one place an endpoint's receiver credentials (custom headers, auth secrets) are encrypted
 * and decrypted. Each is one JSON value per column.
 */

export type AuthSecret = { token: string } | { password: string } | { client_secret: string };

export function sealHeaders(headers: Record<string, string>): string {
  return encrypt(JSON.stringify(headers));
}

export function sealAuth(secret: AuthSecret): string {
  return encrypt(JSON.stringify(secret));
}

// Decrypting is cheap but not free, and these are read on every attempt.
const cache = new Map<string, unknown>();
function open<T>(ciphertext: string): T {
  let v = cache.get(ciphertext);
  if (v === undefined) {
    v = JSON.parse(decrypt(ciphertext));
    if (cache.size > 10_000) cache.clear();
    cache.set(ciphertext, v);
  }
  return v as T;
}

export const openHeaders = (ciphertext: string) => open<Record<string, string>>(ciphertext);
export const openAuth = (ciphertext: string) => open<Record<string, string>>(ciphertext);
