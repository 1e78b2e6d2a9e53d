import { z } from "zod";
import { apiRoute } from "@/lib/http/gate";
import { readJson } from "@/lib/http/body";
import { AppError, zodDetails } from "@/lib/errors";
import { CATALOG_EVENT_TYPES } from "@/lib/webhooks/catalog";
import { sendTestEvent } from "@/lib/webhooks/endpoints";
import { limitOutbound } from "@/lib/rate-limit/outbound";

const body = z.strictObject({ event_type: z.enum(CATALOG_EVENT_TYPES).default("client_created") });

/** Sends a signed sample event now and answers with what the receiver said. */
export const POST = apiRoute<{ id: string }>({ scope: "admin" }, async ({ db, orgId, actor, req }, { id }) => {
  // The body is optional: without one, a client_created sample is sent.
  const parsed = body.safeParse(req.headers.get("content-type") ? await readJson(req) : {});
  if (!parsed.success) throw new AppError("validation_failed", "Invalid test request.", zodDetails(parsed.error.issues));
  await limitOutbound(orgId, "test_event");
  const { deliveryId, outcome } = await sendTestEvent(db, { orgId, actor, source: "api" }, id, parsed.data.event_type);
  return {
    body: {
      object: "webhook_test",
      delivery_id: deliveryId,
      event_type: parsed.data.event_type,
      succeeded: outcome.decision.kind === "succeeded",
      response_status: outcome.status,
      duration_ms: outcome.durationMs,
      error: outcome.decision.kind === "succeeded" ? null : outcome.decision.error,
    },
  };
});
