import { getDb } from "@/db/client";
import { memberForRoute } from "@/lib/auth/session";
import { errorsCsvStream } from "@/lib/imports/errors-csv";
import { isAppError } from "@/lib/errors";

/** The failed rows of an import, for admins signed in to the app. */
export async function GET(_req: Request, { params }: { params: Promise<{ org: string; id: string }> }): Promise<Response> {
  const { org, id } = await params;
  try {
    const me = await memberForRoute(org, "admin");
    const stream = await errorsCsvStream(await getDb(), me.org.id, id);
    return new Response(stream, { headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${id}-errors.csv"` } });
  } catch (err) {
    if (isAppError(err)) return new Response(err.message, { status: err.status });
    throw err;
  }
}
