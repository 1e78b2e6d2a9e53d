import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { apiWriteContext, deleteRecordApi, resolveRecordType } from "@/lib/records/api";
import { updateRecord } from "@/lib/records/pipeline";
import { getRecord } from "@/lib/records/queries";

type Params = { type: string; id: string };

export const GET = apiRoute<Params>({ scope: "read" }, async ({ db, orgId }, { type, id }) => ({
  body: await getRecord(db, orgId, resolveRecordType(type), id),
}));

export const PATCH = apiRoute<Params>({ scope: "write" }, async ({ orgId, actor, req }, { type, id }) => {
  const recordType = resolveRecordType(type);
  return { body: await updateRecord(apiWriteContext(orgId, actor), recordType, id, await readJson(req)) };
});

export const DELETE = apiRoute<Params>({ scope: "delete" }, async ({ orgId, actor }, { type, id }) => ({
  body: await deleteRecordApi(apiWriteContext(orgId, actor), resolveRecordType(type), id),
}));
