import { sessionRoute } from "@/lib/http/session-route";
import { errorsCsvStream } from "@/lib/imports/errors-csv";

/** The failed rows of an import, for admins signed in to the app. */
export const GET = sessionRoute<{ org: string; id: string }>(
  { role: "admin", route: "/{org}/settings/import/{id}/errors.csv" },
  async ({ db, member }, { id }) => {
    const stream = await errorsCsvStream(db, member.org.id, id);
    return new Response(stream, { headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${id}-errors.csv"` } });
  },
);
