import "server-only";
import { getDb, type Db } from "@/db/client";
import type { Role } from "@/db/schema";
import { memberForRoute } from "@/lib/auth/session";
import type { MemberOfOrg } from "@/lib/orgs/service";
import { edge, edgeJson, type EdgeContext } from "./edge";

export interface SessionRouteContext extends EdgeContext {
  db: Db;
  member: MemberOfOrg & { userId: string };
}

/**
 * The edge of the signed-in app's route handlers (uploads, CSV downloads), under `/{org}/…`: the
 * shared skeleton, then the session's membership of the org in the URL with at least `role`
 * (unauthorized, or not_found for a non-member or a lesser role). A handler answers a Response (a
 * file) or a value sent as JSON; its errors are the JSON envelope, like every other edge's.
 */
export function sessionRoute<P extends { org: string }>(
  spec: { role: Role; route: string },
  handler: (ctx: SessionRouteContext, params: P) => Promise<Response | object>,
): (req: Request, route: { params: Promise<P> }) => Promise<Response> {
  return edge<P>({ kind: "app", route: spec.route }, async (ctx, params) => {
    const member = await memberForRoute(params.org, spec.role);
    const result = await handler({ ...ctx, db: await getDb(), member }, params);
    return result instanceof Response ? result : edgeJson(ctx, result);
  });
}
