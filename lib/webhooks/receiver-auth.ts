import "server-only";
import http from "node:http";
import https from "node:https";
import type { WebhookEndpoint } from "@/db/schema";
import { openAuth, openHeaders } from "./endpoint-credentials";
import { outboundAgent } from "@/lib/net/guard";

/**
 * The receiver-side credentials of an attempt: the endpoint's static headers and its
 * `Authorization` (bearer, basic, or an OAuth 2.0 client-credentials token, fetched through the
 * same SSRF-filtering agent as deliveries and cached until shortly before it expires).
 */

export const TOKEN_TIMEOUT_MS = 10_000;
/** A token is refreshed this long before the expiry its server announced. */
const EXPIRY_MARGIN_MS = 30_000;
/** Without expires_in, a token is reused for this long. */
const DEFAULT_TOKEN_TTL_MS = 5 * 60_000;
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** Written in the attempt log instead of a secret value. */
export const REDACTED = "[redacted]";

type Endpoint = Pick<WebhookEndpoint, "id" | "orgId" | "headersCiphertext" | "authKind" | "authPublic" | "authCiphertext">;

const tokens = new Map<string, { key: string; token: string; expiresAt: number }>();

export class TokenError extends Error {}

/** Headers to add to an attempt, and the same with secrets masked for the attempt log. */
export async function receiverHeaders(
  e: Endpoint,
  options: { refreshToken?: boolean } = {},
): Promise<{ send: Record<string, string>; logged: Record<string, string> }> {
  const send: Record<string, string> = {};
  const logged: Record<string, string> = {};
  if (e.headersCiphertext) {
    for (const [k, v] of Object.entries(openHeaders(e.orgId, e.headersCiphertext))) {
      send[k] = v;
      logged[k] = REDACTED;
    }
  }
  if (e.authKind !== "none" && e.authCiphertext) {
    const secret = openAuth(e.orgId, e.authCiphertext);
    const pub = e.authPublic ?? {};
    if (e.authKind === "bearer") send.authorization = `Bearer ${secret.token}`;
    else if (e.authKind === "basic") send.authorization = `Basic ${Buffer.from(`${pub.username}:${secret.password}`).toString("base64")}`;
    else if (e.authKind === "oauth2")
      send.authorization = `Bearer ${await oauthToken(e.id, `${e.authCiphertext}|${JSON.stringify(pub)}`, pub, secret.client_secret!, options.refreshToken)}`;
    logged.authorization = `${e.authKind === "basic" ? "Basic" : "Bearer"} ${REDACTED}`;
  }
  return { send, logged };
}

async function oauthToken(endpointId: string, key: string, pub: Record<string, string>, clientSecret: string, refresh = false): Promise<string> {
  const cached = tokens.get(endpointId);
  if (!refresh && cached && cached.key === key && cached.expiresAt > Date.now()) return cached.token;
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  if (pub.scope) form.set("scope", pub.scope);
  // client_secret_basic (RFC 6749 §2.3.1): the credentials form-encoded, then Basic.
  const basic = Buffer.from(`${encodeURIComponent(pub.client_id ?? "")}:${encodeURIComponent(clientSecret)}`).toString("base64");
  const { status, body } = await postForm(new URL(pub.token_url!), form.toString(), basic);
  if (status !== 200) throw new TokenError(`the token endpoint answered ${status ?? "nothing"}`);
  let parsed: { access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new TokenError("the token endpoint's answer is not JSON");
  }
  if (typeof parsed.access_token !== "string" || !parsed.access_token) throw new TokenError("the token endpoint's answer has no access_token");
  const ttl = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in * 1000 : DEFAULT_TOKEN_TTL_MS;
  if (tokens.size > 10_000) tokens.clear();
  tokens.set(endpointId, { key, token: parsed.access_token, expiresAt: Date.now() + Math.max(0, ttl - EXPIRY_MARGIN_MS) });
  return parsed.access_token;
}

function postForm(target: URL, body: string, basic: string): Promise<{ status: number | null; body: string }> {
  return new Promise((resolve, reject) => {
    const lib = target.protocol === "https:" ? https : http;
    const req = lib.request(target, {
      method: "POST",
      agent: outboundAgent(target),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        authorization: `Basic ${basic}`,
        "content-length": Buffer.byteLength(body),
      },
    });
    const timer = setTimeout(() => req.destroy(new TokenError(`the token endpoint timed out after ${TOKEN_TIMEOUT_MS / 1000} s`)), TOKEN_TIMEOUT_MS);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_TOKEN_RESPONSE_BYTES) req.destroy(new TokenError("the token endpoint's answer is too large"));
        else chunks.push(c);
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? null, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err instanceof TokenError ? err : new TokenError(`the token request failed: ${err.message}`));
    });
    req.end(body);
  });
}
