import "server-only";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { env } from "@/lib/env";
import { persistentSecret } from "@/lib/secrets";

/**
 * AES-256-GCM for secrets that must be readable again (webhook signing secrets, inbound source
 * secrets, connector credentials).
 *
 * Format `v2.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts). The key id names the key that
 * encrypted it (SMARFLE_ENCRYPTION_KEY, or SMARFLE_ENCRYPTION_KEY_PREVIOUS during a key change).
 * The additional authenticated data binds the ciphertext to its organization and column: copied
 * into another org's row or another column, it no longer decrypts. The tag is always 16 bytes.
 *
 * `v1.<iv>.<tag>.<ciphertext>` (no key id, no binding) is still read; `smarfle secrets:reencrypt`
 * rewrites it, and anything under the previous key, as v2 under the current key.
 */

/** Where a secret lives. One name per secret, even where it moves between columns (rotation). */
export type SecretColumn =
  "webhook_endpoints.secret" | "webhook_endpoints.headers" | "webhook_endpoints.auth" | "inbound_sources.secret" | "connectors.headers" | (string & {});

export interface SecretBinding {
  orgId: string;
  column: SecretColumn;
}

const TAG_LENGTH = 16;
const IV_LENGTH = 12;

interface Key {
  id: string;
  bytes: Buffer;
}

let cachedKeys: { current: Key; previous: Key | null } | undefined;

function toKey(b64: string, variable: string): Key {
  const bytes = Buffer.from(b64, "base64");
  if (bytes.length !== 32) throw new Error(`${variable} must decode to 32 bytes`);
  // The id is derived from the key, so it cannot drift from it; 8 bytes are plenty to tell keys apart.
  return { id: createHash("sha256").update("smarfle-key-id").update(bytes).digest("base64url").slice(0, 11), bytes };
}

function keys() {
  if (!cachedKeys) {
    const e = env();
    const current = toKey(e.SMARFLE_ENCRYPTION_KEY ?? persistentSecret("encryption-key", "SMARFLE_ENCRYPTION_KEY"), "SMARFLE_ENCRYPTION_KEY");
    const previous = e.SMARFLE_ENCRYPTION_KEY_PREVIOUS ? toKey(e.SMARFLE_ENCRYPTION_KEY_PREVIOUS, "SMARFLE_ENCRYPTION_KEY_PREVIOUS") : null;
    cachedKeys = { current, previous };
  }
  return cachedKeys;
}

/** Tests change the keys between runs. */
export function resetEncryptionKeys(): void {
  cachedKeys = undefined;
}

function aad(binding: SecretBinding): Buffer {
  return Buffer.from(JSON.stringify(["smarfle", binding.orgId, binding.column]), "utf8");
}

export class DecryptError extends Error {}

export function encrypt(plaintext: string, binding: SecretBinding): string {
  const key = keys().current;
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv("aes-256-gcm", key.bytes, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad(binding));
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v2", key.id, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(".");
}

function open(key: Buffer, iv: string, tag: string, data: string, additional: Buffer | null): string {
  const ivBytes = Buffer.from(iv, "base64url");
  const tagBytes = Buffer.from(tag, "base64url");
  if (ivBytes.length !== IV_LENGTH || tagBytes.length !== TAG_LENGTH) throw new DecryptError("Malformed ciphertext");
  const decipher = createDecipheriv("aes-256-gcm", key, ivBytes, { authTagLength: TAG_LENGTH });
  if (additional) decipher.setAAD(additional);
  decipher.setAuthTag(tagBytes);
  return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
}

export function decrypt(payload: string, binding: SecretBinding): string {
  const parts = payload.split(".");
  const { current, previous } = keys();
  if (parts[0] === "v2" && parts.length === 5) {
    const [, keyId, iv, tag, data] = parts as [string, string, string, string, string];
    const key = keyId === current.id ? current : keyId === previous?.id ? previous : null;
    if (!key) throw new DecryptError(`Encrypted with an unknown key (${keyId}): set SMARFLE_ENCRYPTION_KEY_PREVIOUS to the key it was written with`);
    try {
      return open(key.bytes, iv, tag, data, aad(binding));
    } catch {
      throw new DecryptError(`Ciphertext does not decrypt for ${binding.column} of ${binding.orgId}`);
    }
  }
  if (parts[0] === "v1" && parts.length === 4) {
    const [, iv, tag, data] = parts as [string, string, string, string];
    for (const key of previous ? [current, previous] : [current]) {
      try {
        return open(key.bytes, iv, tag, data, null);
      } catch {
        // try the next key
      }
    }
    throw new DecryptError("Ciphertext (v1) does not decrypt under SMARFLE_ENCRYPTION_KEY or SMARFLE_ENCRYPTION_KEY_PREVIOUS");
  }
  throw new DecryptError("Unrecognised ciphertext format");
}

/** True when `payload` is not yet v2 under the current key: `secrets:reencrypt` rewrites it. */
export function needsReencryption(payload: string): boolean {
  const parts = payload.split(".");
  return !(parts[0] === "v2" && parts[1] === keys().current.id);
}
