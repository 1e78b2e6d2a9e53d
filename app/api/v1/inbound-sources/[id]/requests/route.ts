import { apiRoute } from "@/lib/http/gate";
import { listQuery } from "@/lib/http/query";
import { listRequests, requestView } from "@/lib/inbound/sources";

export const GET = apiRoute<{ id: string }>({ scope: "admin" }, async ({ db, orgId, req }, { id }) => {
  const query = listQuery(new URL(req.url).searchParams, { defaultLimit: 50, cursorPrefix: "inr" });
  const page = await listRequests(db, orgId, id, query);
  return { body: { object: "list", data: page.items.map(requestView), has_more: page.nextCursor !== null, next_cursor: page.nextCursor } };
});
