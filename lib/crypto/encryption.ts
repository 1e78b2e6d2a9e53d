import "server-only";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { env } from "@/lib/env";
import { persistentSecret } from "@/lib/secrets";

/**
 * AES-256-GCM for secrets that must be readable again (webhook signing secrets, connector
 * credentials). The key comes from SMARFLE_ENCRYPTION_KEY; the embedded default generates one
 * under .data/. Format: `v1.<iv>.<tag>.<ciphertext>`, each base64url.
 */
let cachedKey: Buffer | undefined;

function key(): Buffer {
  if (!cachedKey) {
    const b64 = env().SMARFLE_ENCRYPTION_KEY ?? persistentSecret("encryption-key");
    cachedKey = Buffer.from(b64, "base64");
    if (cachedKey.length !== 32) throw new Error("SMARFLE_ENCRYPTION_KEY must decode to 32 bytes");
  }
  return cachedKey;
}

export function encrypt(plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key(), iv);
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(".");
}

export function decrypt(payload: string): string {
  const [version, iv, tag, data] = payload.split(".");
  if (version !== "v1" || !iv || !tag || data === undefined) throw new Error("Unrecognised ciphertext format");
  const decipher = createDecipheriv("aes-256-gcm", key(), Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
}
