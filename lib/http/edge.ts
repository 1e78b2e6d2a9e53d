import "server-only";
import type { VerifiedKey } from "@/lib/api-keys/verify";
import { AppError } from "@/lib/errors";
import { newId, type IdPrefix } from "@/lib/ids";
import { unlessDatabaseDown } from "@/lib/ops/db-health";
import { logKeyedRequest, observeRequest } from "./access-log";
import { clientIp, errorResponse, unexpectedError } from "./respond";

/**
 * The skeleton every edge shares — the API gate, lead capture, inbound webhooks, the internal
 * QStash routes and the signed-in app's file routes:
 *
 *   request id → database-down check → the edge's own work → error envelope → access log and metrics
 *
 * Every error leaves as the documented JSON envelope carrying the request id (an edge may render
 * one differently, as lead capture does for a plain HTML form). An error no handler expected is
 * logged with the request's context and answered 500 without detail; a database known to be down
 * answers 503 at once, and so does a request already waiting on it when it goes.
 */

export interface EdgeContext {
  req: Request;
  requestId: string;
  /** Sent with the answer, whatever it is: X-Request-Id, Cache-Control, and whatever the edge adds. */
  headers: Headers;
  ip: string;
  /** Set by an edge once it knows the caller's API key: the request is then logged against it. */
  key?: VerifiedKey;
}

export interface EdgeOptions {
  /** Names the edge in the logs of unexpected errors. */
  kind: string;
  /** The prefix of the request id (`req` unless the id names a row, as an inbound request's does). */
  idPrefix?: IdPrefix;
  /** The route label of the metrics and access log, where the path holds more than ids (an org's slug). */
  route?: string;
  /** Answers an error another way than the JSON envelope (undefined: the envelope). */
  renderError?: (err: AppError, ctx: EdgeContext) => Response | undefined;
}

export type EdgeHandler<P> = (ctx: EdgeContext, params: P) => Promise<Response>;

export function edge<P = Record<string, never>>(
  options: EdgeOptions,
  handler: EdgeHandler<P>,
): (req: Request, route?: { params?: Promise<P> }) => Promise<Response> {
  return async (req, route) => {
    const started = performance.now();
    const requestId = newId(options.idPrefix ?? "req");
    const ctx: EdgeContext = { req, requestId, headers: new Headers({ "X-Request-Id": requestId, "Cache-Control": "no-store" }), ip: clientIp(req) };
    let res: Response;
    try {
      // A route without dynamic segments gets no params from Next.js (not even a promise).
      res = await unlessDatabaseDown(Promise.resolve(route?.params).then((params) => handler(ctx, (params ?? {}) as P)));
      // A handler's own Response (a stream, a redirect) still carries the edge's headers.
      ctx.headers.forEach((v, k) => res.headers.set(k, v));
    } catch (err) {
      const appErr =
        err instanceof AppError ? err : unexpectedError(err, options.kind, { request_id: requestId, method: req.method, path: new URL(req.url).pathname });
      res = options.renderError?.(appErr, ctx) ?? errorResponse(appErr, requestId, ctx.headers);
    }
    if (ctx.key) logKeyedRequest(ctx.key, req, res.status, started, requestId, ctx.ip);
    observeRequest(req, res.status, started, requestId, ctx.key?.orgId, options.route);
    return res;
  };
}

/** A JSON answer with the edge's headers. */
export function edgeJson(ctx: EdgeContext, body: unknown, status = 200): Response {
  ctx.headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers: ctx.headers });
}
