import { getDb } from "@/db/client";
import { memberForRoute } from "@/lib/auth/session";
import { isAppError } from "@/lib/errors";
import { parseAuditFilter } from "@/lib/audit/query";
import { auditCsvStream } from "@/lib/audit/export";

/** The audit log as filtered on the page, as CSV, for the org's admins. */
export async function GET(req: Request, { params }: { params: Promise<{ org: string }> }): Promise<Response> {
  const { org } = await params;
  try {
    const me = await memberForRoute(org, "admin");
    const filter = parseAuditFilter(new URL(req.url).searchParams);
    const name = `${me.org.slug}-audit-${new Date().toISOString().slice(0, 10)}.csv`;
    return new Response(auditCsvStream(await getDb(), me.org.id, filter), {
      headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${name}"`, "cache-control": "no-store" },
    });
  } catch (err) {
    if (isAppError(err)) return new Response(err.message, { status: err.status });
    throw err;
  }
}
