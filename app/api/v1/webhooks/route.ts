import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { listQuery } from "@/lib/http/query";
import { createEndpoint, endpointView, listEndpoints } from "@/lib/webhooks/endpoints";

/** REST hooks: Zapier, Make and n8n subscribe and unsubscribe here. */
export const GET = apiRoute({ scope: "admin" }, async ({ db, orgId, req }) => {
  const search = new URL(req.url).searchParams;
  const url = search.get("url") ?? undefined;
  search.delete("url");
  const { limit } = listQuery(search, { defaultLimit: 100 });
  const endpoints = await listEndpoints(db, orgId, { url });
  return { body: { object: "list", data: endpoints.slice(0, limit).map(endpointView), has_more: endpoints.length > limit, next_cursor: null } };
});

export const POST = apiRoute({ scope: "admin" }, async ({ db, orgId, actor, req }) => {
  const { endpoint, secret } = await createEndpoint(db, { orgId, actor, source: "api" }, await readJson(req));
  return { status: 201, body: { ...endpointView(endpoint), secret } };
});
