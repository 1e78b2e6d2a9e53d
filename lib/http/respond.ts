import "server-only";
import { isDatabaseUnreachable } from "@/db/errors";
import { AppError, ERROR_STATUS, UNAVAILABLE_RETRY_AFTER_SECONDS, type ErrorCode, type ErrorDetail } from "@/lib/errors";
import { logError, logWarn } from "@/lib/log";

/** The documented error body: {"error": {"code", "message", "details", "request_id"}}. */
export function errorBody(code: ErrorCode, message: string, details: ErrorDetail[], requestId: string) {
  return { error: { code, message, details, request_id: requestId } };
}

/** Sets Retry-After for an error that has one: a rate limit's wait, and always for `unavailable`. */
export function setRetryAfter(headers: Headers, err: AppError): void {
  const retryAfter = err.retryAfterSeconds ?? (err.code === "unavailable" ? UNAVAILABLE_RETRY_AFTER_SECONDS : undefined);
  if (retryAfter !== undefined) headers.set("Retry-After", String(retryAfter));
}

export function errorResponse(err: AppError, requestId: string, headers: Headers = new Headers()): Response {
  headers.set("content-type", "application/json; charset=utf-8");
  setRetryAfter(headers, err);
  return new Response(JSON.stringify(errorBody(err.code, err.message, err.details, requestId)), { status: ERROR_STATUS[err.code], headers });
}

export function jsonResponse(body: unknown, status = 200, headers: Headers = new Headers()): Response {
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers });
}

/** The client's address (lib/http/client-address.ts: the TCP peer, or per TRUST_PROXY_HOPS). */
export { clientAddress as clientIp } from "./client-address";

let lastOutageLog = 0;

/**
 * An error no handler expected, as the client should see it. A database that cannot be reached
 * is an outage, not a bug: `503 unavailable` with Retry-After, logged once every 10 s at most
 * (under load every request fails the same way). Anything else is logged with its context and
 * becomes a 500 with no detail.
 */
export function unexpectedError(err: unknown, context: string, fields: Record<string, string | number | undefined> = {}): AppError {
  if (isDatabaseUnreachable(err)) {
    if (Date.now() - lastOutageLog > 10_000) {
      lastOutageLog = Date.now();
      logWarn(context, `database unreachable; answering 503 (${(err as Error)?.message ?? String(err)})`);
    }
    return new AppError("unavailable", "The service is briefly unavailable. Retry after the time in Retry-After.");
  }
  logError(context, err, fields);
  return new AppError("internal_error", "Something went wrong on our side. Quote the request id when you contact support.");
}
