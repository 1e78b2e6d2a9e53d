import { createHmac, timingSafeEqual } from "node:crypto";
import type { InboundKind } from "@/db/schema";
import { sign } from "@/lib/webhooks/signing";

/**
 * Signature checks for inbound webhooks, over the raw body, timing-safe:
 * - hmac_sha256_hex: `X-Signature: <hex>` (optionally `sha256=<hex>`), key = the secret's UTF-8 bytes
 * - shopify: `X-Shopify-Hmac-Sha256: <base64>`, key = the secret's UTF-8 bytes
 * - standard_webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …`,
 *   key = the `whsec_` secret; the timestamp must be within 5 minutes (replay protection)
 */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

export type VerifyResult = { ok: true } | { ok: false; reason: string };

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

export function verifyInbound(kind: InboundKind, secret: string, headers: Headers, rawBody: string, now = new Date()): VerifyResult {
  switch (kind) {
    case "hmac_sha256_hex": {
      const given = headers.get("x-signature")?.trim().replace(/^sha256=/i, "").toLowerCase();
      if (!given) return { ok: false, reason: "missing X-Signature header" };
      if (!/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: "X-Signature is not a hex SHA-256 digest" };
      const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(rawBody, "utf8").digest();
      return safeEqual(Buffer.from(given, "hex"), expected) ? { ok: true } : { ok: false, reason: "signature does not match the body" };
    }
    case "shopify": {
      const given = headers.get("x-shopify-hmac-sha256")?.trim();
      if (!given) return { ok: false, reason: "missing X-Shopify-Hmac-Sha256 header" };
      const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(rawBody, "utf8").digest();
      return safeEqual(Buffer.from(given, "base64"), expected) ? { ok: true } : { ok: false, reason: "signature does not match the body" };
    }
    case "standard_webhooks": {
      const id = headers.get("webhook-id");
      const ts = headers.get("webhook-timestamp");
      const sigs = headers.get("webhook-signature");
      if (!id || !ts || !sigs) return { ok: false, reason: "missing webhook-id, webhook-timestamp or webhook-signature header" };
      const seconds = Number(ts);
      if (!/^\d+$/.test(ts) || Math.abs(now.getTime() / 1000 - seconds) > TIMESTAMP_TOLERANCE_SECONDS) {
        return { ok: false, reason: "timestamp outside the 5-minute tolerance (replayed or clock skew)" };
      }
      const expected = Buffer.from(sign(secret, id, seconds, rawBody), "base64");
      const match = sigs.split(" ").some((s) => {
        const [version, value] = s.split(",");
        return version === "v1" && value !== undefined && safeEqual(Buffer.from(value, "base64"), expected);
      });
      return match ? { ok: true } : { ok: false, reason: "signature does not match the body" };
    }
  }
}
