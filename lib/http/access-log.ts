import "server-only";
import type { VerifiedKey } from "@/lib/api-keys/verify";
import { flushUsage } from "@/lib/api-keys/usage";
import { flushRequestLog, logApiRequest } from "@/lib/audit/request-log";
import { serverless } from "@/lib/env";
import { logger } from "@/lib/log";
import { metrics, observeHttp, routePattern } from "@/lib/ops/metrics";
import { runAfterResponse } from "./after";

/** The path of a request URL without its query (which may carry a leads key): cheaper than `new URL`. */
export function pathOf(url: string): string {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const queryStart = url.indexOf("?", pathStart);
  return url.slice(pathStart, queryStart === -1 ? undefined : queryStart);
}

/** The access log line and the HTTP metrics of one answered request; `route` labels it when the path holds more than ids. */
export function observeRequest(req: Request, status: number, started: number, requestId: string, orgId?: string, route?: string): void {
  const seconds = (performance.now() - started) / 1000;
  const pathname = route ?? pathOf(req.url);
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
