import { apiRoute } from "@/lib/http/gate";
import { runView } from "@/lib/connectors/connectors";
import { runConnectorNow } from "@/lib/connectors/run";

/** Runs the connector now and answers with the run. */
export const POST = apiRoute<{ id: string }>({ scope: "admin" }, async ({ db, orgId }, { id }) => ({ body: runView(await runConnectorNow(db, orgId, id)) }));
