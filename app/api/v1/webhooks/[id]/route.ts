import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { deleteEndpoint, endpointView, getEndpoint, updateEndpoint } from "@/lib/webhooks/endpoints";

type Params = { id: string };

export const GET = apiRoute<Params>({ scope: "admin" }, async ({ db, orgId }, { id }) => ({ body: endpointView(await getEndpoint(db, orgId, id)) }));

export const PATCH = apiRoute<Params>({ scope: "admin" }, async ({ db, orgId, actor, req }, { id }) => ({
  body: endpointView(await updateEndpoint(db, { orgId, actor, source: "api" }, id, await readJson(req))),
}));

/** Idempotent: unsubscribing twice succeeds both times. */
export const DELETE = apiRoute<Params>({ scope: "admin" }, async ({ db, orgId, actor }, { id }) => {
  await deleteEndpoint(db, { orgId, actor, source: "api" }, id);
  return { body: { id, object: "webhook_endpoint", deleted: true } };
});
