import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { baseUrl } from "@/lib/http/base-url";
import { createSource, listSources, sourceView } from "@/lib/inbound/sources";

export const GET = apiRoute({ scope: "admin" }, async ({ db, orgId, req }) => ({
  body: { object: "list", data: (await listSources(db, orgId)).map((s) => sourceView(s, baseUrl(req))), has_more: false, next_cursor: null },
}));

/** Answers with the source's URL and its secret (shown here, and to admins in settings). */
export const POST = apiRoute({ scope: "admin" }, async ({ db, orgId, actor, req }) => {
  const { source, secret } = await createSource(db, { orgId, actor, source: "api" }, await readJson(req));
  return { status: 201, body: { ...sourceView(source, baseUrl(req)), secret } };
});
