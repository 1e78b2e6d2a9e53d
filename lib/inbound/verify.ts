import { createHmac, timingSafeEqual } from "node:crypto";
import type { InboundKind } from "@/db/schema";
import { sign } from "@/lib/webhooks/signing";

/**
 * Signature checks for inbound webhooks, over the raw body, timing-safe. HMAC keys are the secret
 * string's UTF-8 bytes unless said otherwise.
 * - hmac_sha256_hex: `X-Signature: <hex>` (optionally `sha256=<hex>`)
 * - shopify: `X-Shopify-Hmac-Sha256: <base64>`
 * - standard_webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …`,
 *   key = the `whsec_` secret; the timestamp must be within 5 minutes (replay protection)
 * - stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC of `t.body`, 5 minutes; any
 *   `v1` may match (Stripe signs with the old and the new secret while one is rolled)
 * - calendly: `Calendly-Webhook-Signature: t=<unix>,v1=<hex>`, HMAC of `t.body`, 3 minutes
 * - github, meta_lead_ads: `X-Hub-Signature-256: sha256=<hex>` (Meta signs with the app secret)
 * - typeform: `Typeform-Signature: sha256=<base64>`
 * - basic_auth: `Authorization: Basic …` whose password is the secret (any user name)
 * - header_secret: `X-Webhook-Secret: <secret>`
 * - google_ads_leads: the body's `google_key` is the secret
 */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;
export const CALENDLY_TOLERANCE_SECONDS = 180;

export type VerifyResult = { ok: true } | { ok: false; reason: string };

const OK: VerifyResult = { ok: true };
const MISMATCH: VerifyResult = { ok: false, reason: "signature does not match the body" };

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

const hmac = (secret: string, data: string) => createHmac("sha256", Buffer.from(secret, "utf8")).update(data, "utf8").digest();

/** A text secret compared in constant time (the digests have equal length whatever the input). */
export const sameSecret = (given: string, secret: string) => safeEqual(hmac("compare", given), hmac("compare", secret)) && given.length > 0;

function hexDigest(header: string | null, name: string, secret: string, rawBody: string, prefix: RegExp): VerifyResult {
  const given = header?.trim().replace(prefix, "").toLowerCase();
  if (!given) return { ok: false, reason: `missing ${name} header` };
  if (!/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: `${name} is not a hex SHA-256 digest` };
  return safeEqual(Buffer.from(given, "hex"), hmac(secret, rawBody)) ? OK : MISMATCH;
}

/** `t=<unix>,v1=<hex>,…` (Stripe, Calendly): HMAC of `t.body`, the timestamp within `tolerance`. */
function timestamped(header: string | null, name: string, secret: string, rawBody: string, now: Date, tolerance: number): VerifyResult {
  if (!header) return { ok: false, reason: `missing ${name} header` };
  let t: string | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const at = part.indexOf("=");
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === "t") t = value;
    else if (key === "v1" && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  if (!t || !/^\d{1,12}$/.test(t) || signatures.length === 0) return { ok: false, reason: `${name} needs t=<timestamp> and v1=<signature>` };
  if (Math.abs(now.getTime() / 1000 - Number(t)) > tolerance)
    return { ok: false, reason: `timestamp outside the ${tolerance / 60}-minute tolerance (replayed or clock skew)` };
  const expected = hmac(secret, `${t}.${rawBody}`);
  return signatures.slice(0, 10).some((s) => safeEqual(Buffer.from(s, "hex"), expected)) ? OK : MISMATCH;
}

export function verifyInbound(kind: InboundKind, secret: string, headers: Headers, rawBody: string, now = new Date()): VerifyResult {
  switch (kind) {
    case "hmac_sha256_hex":
      return hexDigest(headers.get("x-signature"), "X-Signature", secret, rawBody, /^sha256=/i);
    case "github":
    case "meta_lead_ads":
      return hexDigest(headers.get("x-hub-signature-256"), "X-Hub-Signature-256", secret, rawBody, /^sha256=/i);
    case "shopify":
    case "typeform": {
      const name = kind === "shopify" ? "X-Shopify-Hmac-Sha256" : "Typeform-Signature";
      const raw = headers.get(name)?.trim();
      if (!raw) return { ok: false, reason: `missing ${name} header` };
      if (kind === "typeform" && !raw.startsWith("sha256=")) return { ok: false, reason: "Typeform-Signature must start with sha256=" };
      const given = kind === "typeform" ? raw.slice("sha256=".length) : raw;
      return safeEqual(Buffer.from(given, "base64"), hmac(secret, rawBody)) ? OK : MISMATCH;
    }
    case "stripe":
      return timestamped(headers.get("stripe-signature"), "Stripe-Signature", secret, rawBody, now, TIMESTAMP_TOLERANCE_SECONDS);
    case "calendly":
      return timestamped(headers.get("calendly-webhook-signature"), "Calendly-Webhook-Signature", secret, rawBody, now, CALENDLY_TOLERANCE_SECONDS);
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
      return match ? OK : MISMATCH;
    }
    case "basic_auth": {
      const auth = headers.get("authorization");
      if (!auth?.toLowerCase().startsWith("basic ")) return { ok: false, reason: "missing Authorization: Basic header" };
      const decoded = Buffer.from(auth.slice(6).trim(), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      return colon >= 0 && sameSecret(decoded.slice(colon + 1), secret) ? OK : { ok: false, reason: "wrong user name or password" };
    }
    case "header_secret": {
      const given = headers.get("x-webhook-secret");
      if (!given) return { ok: false, reason: "missing X-Webhook-Secret header" };
      return sameSecret(given.trim(), secret) ? OK : { ok: false, reason: "X-Webhook-Secret does not match" };
    }
    case "google_ads_leads": {
      let key: unknown;
      try {
        key = (JSON.parse(rawBody) as { google_key?: unknown })?.google_key;
      } catch {
        return { ok: false, reason: "the body is not valid JSON" };
      }
      if (typeof key !== "string" || !key) return { ok: false, reason: "missing google_key" };
      return sameSecret(key, secret) ? OK : { ok: false, reason: "google_key does not match this source's key" };
    }
  }
}
