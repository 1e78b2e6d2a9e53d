import { z } from "zod";
import { AppError, zodDetails } from "@/lib/errors";
import { qstashRoute } from "@/lib/http/qstash-route";
import { runQstashDelivery } from "@/lib/webhooks/qstash";

const bodySchema = z.object({ delivery_id: z.string().min(1).max(64) });

/** QStash calls this to run one delivery attempt. */
export const POST = qstashRoute(async (db, raw) => {
  let body: unknown;
  try {
    body = JSON.parse(raw || "null");
  } catch {
    throw new AppError("invalid_json", "The body is not valid JSON: expected {delivery_id}.");
  }
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) throw new AppError("validation_failed", "Expected {delivery_id}.", zodDetails(parsed.error.issues));
  const outcome = await runQstashDelivery(db, parsed.data.delivery_id);
  return { ran: Boolean(outcome), decision: outcome?.decision.kind ?? null };
});
