import "server-only";
import { AppError, ERROR_STATUS, type ErrorCode, type ErrorDetail } from "@/lib/errors";

/** The documented error body: {"error": {"code", "message", "details", "request_id"}}. */
export function errorBody(code: ErrorCode, message: string, details: ErrorDetail[], requestId: string) {
  return { error: { code, message, details, request_id: requestId } };
}

export function errorResponse(err: AppError, requestId: string, headers: Headers = new Headers()): Response {
  headers.set("content-type", "application/json; charset=utf-8");
  if (err.retryAfterSeconds !== undefined) headers.set("Retry-After", String(err.retryAfterSeconds));
  return new Response(JSON.stringify(errorBody(err.code, err.message, err.details, requestId)), { status: ERROR_STATUS[err.code], headers });
}

export function jsonResponse(body: unknown, status = 200, headers: Headers = new Headers()): Response {
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers });
}

/** The client's address as the first proxy saw it (Next.js sets x-forwarded-for). */
export function clientIp(req: Request): string {
  const fwd = req.headers.get("x-forwarded-for");
  const first = fwd?.split(",")[0]?.trim();
  return first || req.headers.get("x-real-ip") || "unknown";
}
