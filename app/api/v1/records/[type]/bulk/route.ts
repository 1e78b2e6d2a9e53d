import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { apiWriteContext, bulkWriteApi, resolveRecordType } from "@/lib/records/api";

export const POST = apiRoute<{ type: string }>({ scope: "bulk" }, async ({ orgId, actor, req }, { type }) => {
  const recordType = resolveRecordType(type);
  return { body: await bulkWriteApi(apiWriteContext(orgId, actor), recordType, await readJson(req)) };
});
