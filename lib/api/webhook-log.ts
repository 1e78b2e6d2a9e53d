import "server-only";
import { z } from "zod";
import { AppError, zodDetails } from "@/lib/errors";
import { readJson } from "@/lib/http/body";
import { idParam, listOf } from "@/lib/openapi/schemas";
import { attemptView, deliveriesQuery, deliveryView, getDelivery, pageDeliveries, recoverInput, redeliver, redeliverFailed } from "@/lib/webhooks/delivery-log";
import { previewFilter, previewInput } from "@/lib/webhooks/filter";
import { defineRoute } from "./define";

/** The delivery log, re-delivery and filter previews: what the endpoint page does, over the API. */

const tags = ["Webhooks"];
type DeliveryView = ReturnType<typeof deliveryView>;
type AttemptView = ReturnType<typeof attemptView>;

const deliverySchema = z
  .object({
    id: z.string(),
    object: z.literal("webhook_delivery"),
    endpoint_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    record_id: z.string(),
    test: z.boolean(),
    status: z.enum(["pending", "succeeded", "failed"]),
    attempt_count: z.number().int(),
    next_attempt_at: z.iso.datetime().nullable(),
    completed_at: z.iso.datetime().nullable(),
    last_response_status: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: z.iso.datetime(),
  } satisfies Record<keyof DeliveryView, z.ZodType>)
  .meta({ id: "WebhookDelivery" });

const attemptSchema = z.object({
  attempt_number: z.number().int(),
  at: z.iso.datetime(),
  duration_ms: z.number().int(),
  request: z.object({ method: z.literal("POST"), url: z.string(), headers: z.record(z.string(), z.string()), body: z.string(), body_length: z.number().int() }),
  response: z
    .object({ status: z.number().int(), headers: z.record(z.string(), z.string()), body: z.string() })
    .nullable()
    .meta({ description: "Null when no answer came (timeout, refused connection)." }),
  error: z.string().nullable(),
} satisfies Record<keyof AttemptView, z.ZodType>);

const listEndpointDeliveries = defineRoute({
  method: "GET",
  path: "/api/v1/webhooks/{id}/deliveries",
  scope: "admin",
  doc: {
    operationId: "list_webhook_deliveries",
    summary: "An endpoint's deliveries, newest first",
    description: "Filter by `status` and `event_type`; pass `next_cursor` as `cursor` for older ones.",
    tags,
    params: idParam("we"),
    query: deliveriesQuery.extend({ limit: z.string().optional().meta({ description: "1–100, default 25." }) }),
    response: { status: 200, description: "Deliveries.", schema: listOf(deliverySchema, "WebhookDeliveryList") },
    errors: [400, 403, 404],
  },
  async handler({ db, orgId, req }, { id }) {
    return { body: await pageDeliveries(db, orgId, id, new URL(req.url).searchParams) };
  },
});

const getDeliveryRoute = defineRoute({
  method: "GET",
  path: "/api/v1/deliveries/{id}",
  scope: "admin",
  doc: {
    operationId: "get_delivery",
    summary: "A delivery, with every attempt's exact request and response",
    description: "The headers and body exactly as sent (a receiver whose signature check fails can compare byte for byte), and what the receiver answered.",
    tags,
    params: idParam("dlv"),
    response: {
      status: 200,
      description: "The delivery.",
      schema: deliverySchema.extend({ attempts: z.array(attemptSchema) }).meta({ id: "WebhookDeliveryWithAttempts" }),
    },
    errors: [403, 404],
  },
  async handler({ db, orgId }, { id }) {
    return { body: await getDelivery(db, orgId, id) };
  },
});

const redeliverRoute = defineRoute({
  method: "POST",
  path: "/api/v1/deliveries/{id}/redeliver",
  scope: "admin",
  doc: {
    operationId: "redeliver",
    summary: "Deliver the same event to the same endpoint again",
    description: "Queues a new delivery (the same `webhook-id`, so a receiver that de-duplicates drops it if it already has it).",
    tags,
    params: idParam("dlv"),
    response: { status: 202, description: "The new delivery, queued.", schema: z.object({ object: z.literal("webhook_redelivery"), delivery_id: z.string() }) },
    errors: [403, 404],
  },
  async handler({ db, orgId, actor }, { id }) {
    return { status: 202, body: { object: "webhook_redelivery", delivery_id: await redeliver(db, { orgId, actor, source: "api" }, id) } };
  },
});

const recoverRoute = defineRoute({
  method: "POST",
  path: "/api/v1/webhooks/{id}/recover",
  scope: "admin",
  doc: {
    operationId: "recover_webhook",
    summary: "Re-deliver every failed delivery since a moment",
    description:
      'For a receiver that was down: `{"since": "2026-12-01T00:00:00Z"}` queues each failed delivery to this endpoint since then again, once per event.',
    tags,
    params: idParam("we"),
    body: { schema: recoverInput },
    response: {
      status: 202,
      description: "How many deliveries were queued.",
      schema: z.object({ object: z.literal("webhook_recovery"), queued: z.number().int() }),
    },
    errors: [400, 403, 404, 413, 415],
  },
  async handler({ db, orgId, actor, req }, { id }) {
    const parsed = recoverInput.safeParse(await readJson(req));
    if (!parsed.success) throw new AppError("validation_failed", "Invalid recovery request.", zodDetails(parsed.error.issues));
    return {
      status: 202,
      body: { object: "webhook_recovery", queued: await redeliverFailed(db, { orgId, actor, source: "api" }, id, new Date(parsed.data.since)) },
    };
  },
});

const previewFilterRoute = defineRoute({
  method: "POST",
  path: "/api/v1/webhooks/preview-filter",
  scope: "admin",
  doc: {
    operationId: "preview_webhook_filter",
    summary: "Which of the last 100 events a filter would let through",
    description:
      "Runs `filter` over the organization's last 100 events of `event_types` (empty: every record event) and answers with the matching ids. Nothing is saved.",
    tags,
    body: { schema: previewInput },
    response: {
      status: 200,
      description: "The preview.",
      schema: z.object({
        object: z.literal("filter_preview"),
        examined: z.number().int(),
        matched: z.number().int(),
        event_ids: z.array(z.string()),
        events: z.array(z.object({ id: z.string(), type: z.string(), created_at: z.iso.datetime(), matched: z.boolean() })),
      }),
    },
    errors: [400, 403, 413, 415],
  },
  async handler({ db, orgId, req }) {
    return { body: await previewFilter(db, orgId, await readJson(req)) };
  },
});

export const webhookLogRoutes = [previewFilterRoute, listEndpointDeliveries, recoverRoute, getDeliveryRoute, redeliverRoute];
