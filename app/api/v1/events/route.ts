import { apiRoute } from "@/lib/http/gate";
import { listEvents } from "@/lib/webhooks/events-feed";

export const GET = apiRoute({ scope: "read" }, async ({ db, orgId, req }) => ({ body: await listEvents(db, orgId, new URL(req.url).searchParams) }));
