import "server-only";
import { addressBucket } from "@/lib/http/client-address";
import type { ApiScope } from "@/db/schema";
import { getDb, type Db } from "@/db/client";
import { AppError } from "@/lib/errors";
import { hasScope, verifyApiKey, type VerifiedKey } from "@/lib/api-keys/verify";
import { recordApiCall } from "@/lib/api-keys/usage";
import { edge } from "./edge";
import { idempotentAnswer } from "./idempotency";
import { getRateLimiter, type RateLimitOutcome } from "@/lib/rate-limit";
import { planLimits } from "@/lib/orgs/plans";
import type { Actor } from "@/lib/audit/write";
import { jsonResponse } from "./respond";

/**
 * The API gate: every /api/v1 route handler is wrapped by `apiRoute`. In order (the first and
 * last steps are the skeleton every edge shares, lib/http/edge.ts):
 *
 *   request id → key (Bearer or X-API-Key) → rate limit → scope → [Idempotency-Key] → handler → JSON or error envelope
 *
 * The limiter runs here, as the gate's first step after the key lookup, rather than in proxy.ts:
 * the limit depends on the key's org (plan and operator override), which the lookup gives us,
 * and a proxy on every request costs the whole app throughput (measured). It still runs before a
 * handler touches the database.
 */

export const WINDOW_SECONDS = 60;
/** All of an org's keys together get at most this multiple of the per-key rate. */
export const ORG_CEILING_MULTIPLIER = 2;
/** Requests without a valid key, per client IP and minute. */
export const ANONYMOUS_RPM = 60;

export interface ApiContext {
  requestId: string;
  key: VerifiedKey;
  orgId: string;
  db: Db;
  actor: Actor;
  req: Request;
  ip: string;
}

export type ApiResult = Response | { status?: number; body: unknown; headers?: Record<string, string> };

type RouteParams = Record<string, string | string[]>;

export function keyRateLimit(key: Pick<VerifiedKey, "org">): number {
  return key.org.rateLimitRpm ?? planLimits(key.org.plan).rateLimitRpm;
}

export function presentedKey(req: Request): string | null {
  const auth = req.headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  return req.headers.get("x-api-key")?.trim() || null;
}

/** X-RateLimit-* plus the IETF draft's RateLimit-Policy / RateLimit fields. */
export function rateLimitHeaders(headers: Headers, r: RateLimitOutcome, windowSeconds = WINDOW_SECONDS): void {
  const resetIn = Math.max(0, Math.ceil((r.reset - Date.now()) / 1000));
  headers.set("X-RateLimit-Limit", String(r.limit));
  headers.set("X-RateLimit-Remaining", String(r.remaining));
  headers.set("X-RateLimit-Reset", String(Math.ceil(r.reset / 1000)));
  headers.set("RateLimit-Policy", `"default";q=${r.limit};w=${windowSeconds}`);
  headers.set("RateLimit", `"default";r=${r.remaining};t=${resetIn}`);
  if (!r.success) headers.set("Retry-After", String(Math.max(1, resetIn)));
}

/**
 * Per key and the org-wide ceiling, checked at once (one round trip to Redis: the two scripts
 * are pipelined). A window counts a request only when it lets it through, so if one window
 * refuses what the other let through, the other gets its count back. The headers describe
 * whichever limit binds.
 */
export async function limitForKey(key: VerifiedKey): Promise<RateLimitOutcome> {
  const limiter = await getRateLimiter();
  const rpm = keyRateLimit(key);
  const orgRpm = rpm * ORG_CEILING_MULTIPLIER;
  const [perKey, perOrg] = await Promise.all([limiter.limit(`key:${key.id}`, rpm, WINDOW_SECONDS), limiter.limit(`org:${key.orgId}`, orgRpm, WINDOW_SECONDS)]);
  if (perKey.success && !perOrg.success) void limiter.refund(`key:${key.id}`, rpm, WINDOW_SECONDS);
  if (perOrg.success && !perKey.success) void limiter.refund(`org:${key.orgId}`, orgRpm, WINDOW_SECONDS);
  if (!perKey.success) return perKey;
  if (!perOrg.success) return perOrg;
  return perOrg.remaining < perKey.remaining ? perOrg : perKey;
}

export async function limitAnonymous(ip: string, rpm = ANONYMOUS_RPM, bucket = "anon"): Promise<RateLimitOutcome> {
  const limiter = await getRateLimiter();
  return limiter.limit(`${bucket}:ip:${addressBucket(ip)}`, rpm, WINDOW_SECONDS);
}

/**
 * Key → limits → usage: the first steps of every keyed request. Without a valid key the
 * client's address is limited instead (`anonymous`), and the answer is 401 (or 429). Sets the
 * rate-limit headers either way.
 */
export async function authenticate(
  db: Db,
  presented: string | null,
  ip: string,
  headers: Headers,
  anonymous: { rpm?: number; bucket?: string; missing: string; invalid: string } = {
    missing: "Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
    invalid: "This API key is not valid: it may be mistyped, revoked, expired or rotated out.",
  },
  /** Receives the key as soon as it is known, so a request refused later is still logged against it. */
  seen?: { key?: VerifiedKey },
  /** The limits a valid key's request counts against: by default its own and the org-wide ceiling. */
  limitKey: (key: VerifiedKey) => Promise<RateLimitOutcome> = limitForKey,
): Promise<VerifiedKey> {
  const key = presented ? await verifyApiKey(db, presented) : null;
  if (seen && key) seen.key = key;
  if (!key) {
    const limited = await limitAnonymous(ip, anonymous.rpm, anonymous.bucket);
    rateLimitHeaders(headers, limited);
    if (!limited.success) throw new AppError("rate_limited", "Too many requests without a valid API key from this address.");
    throw new AppError("unauthorized", presented ? anonymous.invalid : anonymous.missing);
  }
  const limited = await limitKey(key);
  rateLimitHeaders(headers, limited);
  if (!limited.success) {
    throw new AppError("rate_limited", `Rate limit of ${limited.limit} requests per minute exceeded. Retry after ${headers.get("Retry-After")} s.`);
  }
  recordApiCall(key.orgId, key.id);
  return key;
}

/**
 * The API edge: the shared skeleton (lib/http/edge.ts) around key → limits → scope → handler,
 * answering the handler's result as JSON.
 */
export function apiRoute<P extends RouteParams = RouteParams>(
  /** `idempotent`: the route honours Idempotency-Key (lib/http/idempotency.ts); every POST does. */
  spec: { scope: ApiScope; idempotent?: boolean },
  handler: (ctx: ApiContext, params: P) => Promise<ApiResult>,
): (req: Request, route: { params: Promise<P> }) => Promise<Response> {
  return edge<P>({ kind: "api" }, async (edgeCtx, params) => {
    const { req, requestId, headers, ip } = edgeCtx;
    const db = await getDb();
    const key = await authenticate(db, presentedKey(req), ip, headers, undefined, edgeCtx);
    if (!hasScope(key.scopes, spec.scope)) {
      throw new AppError("insufficient_scope", `This API key lacks the "${spec.scope}" scope needed here.`, [
        { path: "scope", message: `requires ${spec.scope}` },
      ]);
    }
    const run = (request: Request) =>
      handler({ requestId, key, orgId: key.orgId, db, actor: { type: "api_key", id: key.id, label: key.prefix }, req: request, ip }, params);
    const result = spec.idempotent ? await idempotentAnswer(db, key.orgId, req, run) : await run(req);
    if (result instanceof Response) return result;
    for (const [k, v] of Object.entries(result.headers ?? {})) headers.set(k, v);
    return result.status === 204 ? new Response(null, { status: 204, headers }) : jsonResponse(result.body, result.status ?? 200, headers);
  });
}
