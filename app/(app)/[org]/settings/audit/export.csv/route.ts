import { sessionRoute } from "@/lib/http/session-route";
import { parseAuditFilter } from "@/lib/audit/query";
import { auditCsvStream } from "@/lib/audit/export";

/** The audit log as filtered on the page, as CSV, for the org's admins. */
export const GET = sessionRoute({ role: "admin", route: "/{org}/settings/audit/export.csv" }, async ({ db, member, req }) => {
  const filter = parseAuditFilter(new URL(req.url).searchParams);
  const name = `${member.org.slug}-audit-${new Date().toISOString().slice(0, 10)}.csv`;
  return new Response(auditCsvStream(db, member.org.id, filter), {
    headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${name}"` },
  });
});
