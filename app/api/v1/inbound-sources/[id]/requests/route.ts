import { apiRoute } from "@/lib/http/gate";
import { listRequests, requestView } from "@/lib/inbound/sources";

export const GET = apiRoute<{ id: string }>({ scope: "admin" }, async ({ db, orgId, req }, { id }) => {
  const search = new URL(req.url).searchParams;
  const page = await listRequests(db, orgId, id, { cursor: search.get("cursor") ?? undefined, limit: Number(search.get("limit") ?? 50) || 50 });
  return { body: { object: "list", data: page.items.map(requestView), has_more: page.nextCursor !== null, next_cursor: page.nextCursor } };
});
