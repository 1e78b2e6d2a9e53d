import { checkReadiness } from "@/lib/ops/readiness";

/** Readiness: 200 when the database answers, its schema is current and Redis answers (where used). */
export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  const { ready, checks } = await checkReadiness();
  const headers = { "cache-control": "no-store", ...(ready ? {} : { "retry-after": "5" }) };
  return Response.json({ status: ready ? "ready" : "unavailable", checks }, { status: ready ? 200 : 503, headers });
}
