import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { createEndpoint, endpointView, listEndpoints } from "@/lib/webhooks/endpoints";

/** REST hooks: Zapier, Make and n8n subscribe and unsubscribe here. */
export const GET = apiRoute({ scope: "admin" }, async ({ db, orgId, req }) => {
  const url = new URL(req.url).searchParams.get("url") ?? undefined;
  const endpoints = await listEndpoints(db, orgId, { url });
  return { body: { object: "list", data: endpoints.map(endpointView), has_more: false, next_cursor: null } };
});

export const POST = apiRoute({ scope: "admin" }, async ({ db, orgId, actor, req }) => {
  const { endpoint, secret } = await createEndpoint(db, { orgId, actor, source: "api" }, await readJson(req));
  return { status: 201, body: { ...endpointView(endpoint), secret } };
});
