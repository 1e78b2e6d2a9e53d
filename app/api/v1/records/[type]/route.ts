import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { apiWriteContext, listRecordsApi, resolveRecordType } from "@/lib/records/api";
import { createRecord } from "@/lib/records/pipeline";

type Params = { type: string };

export const GET = apiRoute<Params>({ scope: "read" }, async ({ db, orgId, req }, { type }) => ({
  body: await listRecordsApi(db, orgId, resolveRecordType(type), new URL(req.url).searchParams),
}));

export const POST = apiRoute<Params>({ scope: "write" }, async ({ orgId, actor, req }, { type }) => {
  const recordType = resolveRecordType(type);
  return { status: 201, body: await createRecord(apiWriteContext(orgId, actor), recordType, await readJson(req)) };
});
