import { apiRoute } from "@/lib/http/gate";
import { eventCatalog } from "@/lib/webhooks/catalog";

export const GET = apiRoute({ scope: "read" }, async () => ({ body: { object: "list", data: eventCatalog(), has_more: false, next_cursor: null } }));
