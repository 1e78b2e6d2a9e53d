import { apiRoute } from "@/lib/http/gate";
import { errorsCsvStream } from "@/lib/imports/errors-csv";

export const GET = apiRoute<{ id: string }>({ scope: "bulk" }, async ({ db, orgId }, { id }) => {
  const stream = await errorsCsvStream(db, orgId, id);
  return new Response(stream, { headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${id}-errors.csv"` } });
});
