import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { baseUrl } from "@/lib/http/base-url";
import { deleteSource, getSource, sourceView, updateSource } from "@/lib/inbound/sources";

type Params = { id: string };

export const GET = apiRoute<Params>({ scope: "admin" }, async ({ db, orgId, req }, { id }) => ({ body: sourceView(await getSource(db, orgId, id), baseUrl(req)) }));

export const PATCH = apiRoute<Params>({ scope: "admin" }, async ({ db, orgId, actor, req }, { id }) => ({
  body: sourceView(await updateSource(db, { orgId, actor, source: "api" }, id, await readJson(req)), baseUrl(req)),
}));

export const DELETE = apiRoute<Params>({ scope: "admin" }, async ({ db, orgId, actor }, { id }) => {
  await deleteSource(db, { orgId, actor, source: "api" }, id);
  return { body: { id, object: "inbound_source", deleted: true } };
});
