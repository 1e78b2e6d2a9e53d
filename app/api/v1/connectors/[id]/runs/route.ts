import { apiRoute } from "@/lib/http/gate";
import { listQuery } from "@/lib/http/query";
import { listRuns, runView } from "@/lib/connectors/connectors";

export const GET = apiRoute<{ id: string }>({ scope: "admin" }, async ({ db, orgId, req }, { id }) => {
  const { limit } = listQuery(new URL(req.url).searchParams, { defaultLimit: 50 });
  const runs = await listRuns(db, orgId, id, limit + 1);
  return { body: { object: "list", data: runs.slice(0, limit).map(runView), has_more: runs.length > limit, next_cursor: null } };
});
