import { createHmac, randomBytes } from "node:crypto";

/**
 * Standard Webhooks signatures (the scheme Svix and others share): the secret is `whsec_` +
 * base64 of random bytes; the signature is base64(HMAC-SHA256(secret bytes, "id.timestamp.body")),
 * sent as `webhook-signature: v1,<sig>` — several space-separated during a secret rotation.
 */
export const SECRET_PREFIX = "whsec_";

export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(24).toString("base64")}`;
}

function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  return createHmac("sha256", secretBytes(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
}

/** The headers of one signed attempt. Every attempt is signed afresh: new timestamp, same id. */
export function signedHeaders(opts: { id: string; eventType: string; body: string; secrets: string[]; now?: Date }): Record<string, string> {
  const timestamp = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const signature = opts.secrets.map((s) => `v1,${sign(s, opts.id, timestamp, opts.body)}`).join(" ");
  return {
    "content-type": "application/json",
    "user-agent": "Smarfle-Webhooks/1.0",
    "webhook-id": opts.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature,
    "x-smarfle-signature": signature,
    "x-smarfle-event": opts.eventType,
  };
}
