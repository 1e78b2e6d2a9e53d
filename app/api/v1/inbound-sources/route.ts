import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { baseUrl } from "@/lib/http/base-url";
import { listQuery } from "@/lib/http/query";
import { createSource, listSources, sourceView } from "@/lib/inbound/sources";

export const GET = apiRoute({ scope: "admin" }, async ({ db, orgId, req }) => {
  const { limit, cursor } = listQuery(new URL(req.url).searchParams, { defaultLimit: 100, cursorPrefix: "src" });
  const rows = await listSources(db, orgId, { limit: limit + 1, cursor });
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { body: { object: "list", data: page.map((s) => sourceView(s, baseUrl(req))), has_more: hasMore, next_cursor: hasMore ? page[page.length - 1]!.id : null } };
});

/** Answers with the source's URL and its secret (shown here, and to admins in settings). */
export const POST = apiRoute({ scope: "admin" }, async ({ db, orgId, actor, req }) => {
  const { source, secret } = await createSource(db, { orgId, actor, source: "api" }, await readJson(req));
  return { status: 201, body: { ...sourceView(source, baseUrl(req)), secret } };
});
