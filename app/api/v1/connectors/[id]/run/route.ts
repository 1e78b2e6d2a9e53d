import { apiRoute } from "@/lib/http/gate";
import { runView } from "@/lib/connectors/connectors";
import { kickConnectorRuns, runConnectorNow } from "@/lib/connectors/run";

/** Queues a run and answers 202 with it at once; the run log (and GET …/runs) shows how it ends. */
export const POST = apiRoute<{ id: string }>({ scope: "admin" }, async ({ db, orgId }, { id }) => {
  const run = await runConnectorNow(db, orgId, id);
  kickConnectorRuns(db);
  return { status: 202, body: runView(run) };
});
