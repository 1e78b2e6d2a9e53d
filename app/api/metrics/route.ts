import { AppError } from "@/lib/errors";
import { errorResponse } from "@/lib/http/respond";
import { newId } from "@/lib/ids";
import { metrics, metricsAuthorized } from "@/lib/ops/metrics";

/** Prometheus text format; needs `Authorization: Bearer $METRICS_TOKEN`, and is off without it. */
export const dynamic = "force-dynamic";

export async function GET(req: Request): Promise<Response> {
  const auth = metricsAuthorized(req.headers.get("authorization"));
  if (auth === "off") return new Response(null, { status: 404 });
  if (auth === "refused") {
    const err = new AppError("unauthorized", "Send the metrics token as `Authorization: Bearer <METRICS_TOKEN>`.");
    return errorResponse(err, newId("req"), new Headers({ "www-authenticate": "Bearer" }));
  }
  const { registry } = metrics();
  return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType, "cache-control": "no-store" } });
}
