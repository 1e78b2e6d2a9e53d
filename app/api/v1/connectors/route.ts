import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { listQuery } from "@/lib/http/query";
import { connectorView, createConnector, listConnectors } from "@/lib/connectors/connectors";

export const GET = apiRoute({ scope: "admin" }, async ({ db, orgId, req }) => {
  const { limit, cursor } = listQuery(new URL(req.url).searchParams, { defaultLimit: 100, cursorPrefix: "con" });
  const rows = await listConnectors(db, orgId, { limit: limit + 1, cursor });
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { body: { object: "list", data: page.map(connectorView), has_more: hasMore, next_cursor: hasMore ? page[page.length - 1]!.id : null } };
});

export const POST = apiRoute({ scope: "admin" }, async ({ db, orgId, actor, req }) => ({
  status: 201,
  body: connectorView(await createConnector(db, { orgId, actor, source: "api" }, await readJson(req))),
}));
