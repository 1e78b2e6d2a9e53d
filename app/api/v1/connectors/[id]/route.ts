import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { connectorView, deleteConnector, getConnector, updateConnector } from "@/lib/connectors/connectors";

type Params = { id: string };

export const GET = apiRoute<Params>({ scope: "admin" }, async ({ db, orgId }, { id }) => ({ body: connectorView(await getConnector(db, orgId, id)) }));

export const PATCH = apiRoute<Params>({ scope: "admin" }, async ({ db, orgId, actor, req }, { id }) => ({
  body: connectorView(await updateConnector(db, { orgId, actor, source: "api" }, id, await readJson(req))),
}));

export const DELETE = apiRoute<Params>({ scope: "admin" }, async ({ db, orgId, actor }, { id }) => {
  await deleteConnector(db, { orgId, actor, source: "api" }, id);
  return { body: { id, object: "connector", deleted: true } };
});
