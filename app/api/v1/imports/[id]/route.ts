import { apiRoute } from "@/lib/http/gate";
import { getImport, importView } from "@/lib/imports/imports";

export const GET = apiRoute<{ id: string }>({ scope: "bulk" }, async ({ db, orgId }, { id }) => ({ body: importView(await getImport(db, orgId, id)) }));
