import { apiRoute } from "@/lib/http/gate";
import { listRuns, runView } from "@/lib/connectors/connectors";

export const GET = apiRoute<{ id: string }>({ scope: "admin" }, async ({ db, orgId }, { id }) => ({
  body: { object: "list", data: (await listRuns(db, orgId, id)).map(runView), has_more: false, next_cursor: null },
}));
