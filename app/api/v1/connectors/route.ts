import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { connectorView, createConnector, listConnectors } from "@/lib/connectors/connectors";

export const GET = apiRoute({ scope: "admin" }, async ({ db, orgId }) => ({
  body: { object: "list", data: (await listConnectors(db, orgId)).map(connectorView), has_more: false, next_cursor: null },
}));

export const POST = apiRoute({ scope: "admin" }, async ({ db, orgId, actor, req }) => ({
  status: 201,
  body: connectorView(await createConnector(db, { orgId, actor, source: "api" }, await readJson(req))),
}));
