/**
 * Liveness: the process is up and serving. Touches no dependency, so a database outage never
 * gets a healthy server restarted; readiness (/api/ready) is the question for traffic.
 */
export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
}
