import { z } from "zod";
import { getDb } from "@/db/client";
import { readText } from "@/lib/http/body";
import { runQstashDelivery, verifyQstash } from "@/lib/webhooks/qstash";

const bodySchema = z.object({ delivery_id: z.string().min(1).max(64) });

/** QStash calls this to run one delivery attempt. Anything not signed by QStash is refused. */
export async function POST(req: Request): Promise<Response> {
  const raw = await readText(req, 16 * 1024).catch(() => null);
  if (raw === null || !(await verifyQstash(req, raw))) return Response.json({ error: { code: "unauthorized", message: "Invalid QStash signature." } }, { status: 401 });
  const parsed = bodySchema.safeParse(JSON.parse(raw || "null"));
  if (!parsed.success) return Response.json({ error: { code: "validation_failed", message: "Expected {delivery_id}." } }, { status: 400 });
  const outcome = await runQstashDelivery(await getDb(), parsed.data.delivery_id);
  return Response.json({ ran: Boolean(outcome), decision: outcome?.decision.kind ?? null });
}
