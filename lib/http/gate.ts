import "server-only";
import { addressBucket } from "@/lib/http/client-address";
import type { ApiScope } from "@/db/schema";
import { getDb, type Db } from "@/db/client";
import { AppError } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { hasScope, verifyApiKey, type VerifiedKey } from "@/lib/api-keys/keys";
import { flushUsage, recordApiCall } from "@/lib/api-keys/usage";
import { flushRequestLog, logApiRequest } from "@/lib/audit/request-log";
import { serverless } from "@/lib/env";
import { logger } from "@/lib/log";
import { unlessDatabaseDown } from "@/lib/ops/db-health";
import { metrics, observeHttp, routePattern } from "@/lib/ops/metrics";
import { runAfterResponse } from "./after";
import { getRateLimiter, type RateLimitOutcome } from "@/lib/rate-limit";
import { planLimits } from "@/lib/orgs/plans";
import type { Actor } from "@/lib/audit/write";
import { clientIp, errorResponse, jsonResponse, unexpectedError } from "./respond";

/**
 * The API gate: every /api/v1 route handler is wrapped by `apiRoute`. In order:
 *
 *   request id → key (Bearer or X-API-Key) → rate limit → scope → handler → JSON or error envelope
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

export function apiRoute<P extends RouteParams = RouteParams>(
  spec: { scope: ApiScope },
  handler: (ctx: ApiContext, params: P) => Promise<ApiResult>,
): (req: Request, route: { params: Promise<P> }) => Promise<Response> {
  return async (req, route) => {
    const started = performance.now();
    const requestId = newId("req");
    const headers = new Headers({ "X-Request-Id": requestId, "Cache-Control": "no-store" });
    const ip = clientIp(req);
    const seen: { key?: VerifiedKey } = {};
    const res = await gated(req, route, requestId, headers, ip, seen);
    if (seen.key) logKeyedRequest(seen.key, req, res.status, started, requestId, ip);
    observeRequest(req, res.status, started, requestId, seen.key?.orgId);
    return res;
  };

  async function gated(req: Request, route: { params: Promise<P> }, requestId: string, headers: Headers, ip: string, seen: { key?: VerifiedKey }): Promise<Response> {
    try {
      const db = await getDb();
      // With the database known to be down: 503 at once, and for a request already waiting on it.
      const key = await unlessDatabaseDown(authenticate(db, presentedKey(req), ip, headers, undefined, seen));
      if (!hasScope(key.scopes, spec.scope)) {
        throw new AppError("insufficient_scope", `This API key lacks the "${spec.scope}" scope needed here.`, [{ path: "scope", message: `requires ${spec.scope}` }]);
      }
      const result = await unlessDatabaseDown(
        handler({ requestId, key, orgId: key.orgId, db, actor: { type: "api_key", id: key.id, label: key.prefix }, req, ip }, await route.params),
      );
      if (result instanceof Response) {
        headers.forEach((v, k) => result.headers.set(k, v));
        return result;
      }
      for (const [k, v] of Object.entries(result.headers ?? {})) headers.set(k, v);
      return result.status === 204 ? new Response(null, { status: 204, headers }) : jsonResponse(result.body, result.status ?? 200, headers);
    } catch (err) {
      if (err instanceof AppError) return errorResponse(err, requestId, headers);
      return errorResponse(unexpectedError(err, "api", { request_id: requestId, method: req.method, path: new URL(req.url).pathname }), requestId, headers);
    }
  }
}

/** The path of a request URL without its query (which may carry a leads key): cheaper than `new URL`. */
function pathOf(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const queryStart = url.indexOf("?", pathStart);
  return url.slice(pathStart, queryStart === -1 ? undefined : queryStart);
}

/** The access log line and the HTTP metrics of one answered request. */
export function observeRequest(req: Request, status: number, started: number, requestId: string, orgId?: string): void {
  const seconds = (performance.now() - started) / 1000;
  const pathname = pathOf(req.url);
  observeHttp(pathname, req.method, status, seconds);
  if (status === 429) metrics().rateLimited.inc({ limit: pathname.startsWith("/api/v1") ? "api" : "public" });
  logger().info(
    { request_id: requestId, org_id: orgId, method: req.method, route: routePattern(pathname), status, duration_ms: Math.round(seconds * 1000) },
    "request",
  );
}

/**
 * In serverless mode an instance can be frozen once it has answered, so the buffered request
 * log and usage counts are written after each response (Next.js `after`, which keeps the
 * function running for it) rather than on a timer that might never fire.
 */
function flushAfterResponse(): void {
  runAfterResponse(() => Promise.all([flushRequestLog(), flushUsage()]).catch(() => {}));
}

/** One entry in the API request log (buffered; written in batches off the request's path). */
export function logKeyedRequest(key: VerifiedKey, req: Request, status: number, started: number, requestId: string, ip: string): void {
  logApiRequest({
    id: requestId,
    orgId: key.orgId,
    keyId: key.id,
    keyPrefix: key.prefix,
    method: req.method,
    // The path only: a query string may carry a leads key (`?key=`) or personal data.
    path: pathOf(req.url).slice(0, 500),
    status,
    durationMs: Math.round(performance.now() - started),
    ip: ip || null,
    at: new Date(),
  });
  if (serverless()) flushAfterResponse();
}
