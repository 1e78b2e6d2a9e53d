import "server-only";
import { z } from "zod";
import { AppError, zodDetails } from "@/lib/errors";
import { readJson } from "@/lib/http/body";
import { listQuery } from "@/lib/http/query";
import { deletedOf, idParam, listOf, listParams } from "@/lib/openapi/schemas";
import { limitOutbound } from "@/lib/rate-limit/outbound";
import { CATALOG_EVENT_TYPES } from "@/lib/webhooks/catalog";
import { createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, updateEndpoint } from "@/lib/webhooks/endpoints";
import { endpointInput, endpointPatch, endpointView, SUBSCRIBABLE_EVENTS } from "@/lib/webhooks/endpoint-fields";
import { sendTestEvent } from "@/lib/webhooks/delivery-log";
import { filterSchema } from "@/lib/webhooks/filter";
import { defineRoute } from "./define";

/** REST hooks: Zapier, Make and n8n subscribe and unsubscribe here. */

const endpointSchema = z
  .object({
    id: z.string(),
    object: z.literal("webhook_endpoint"),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z
      .array(z.enum(SUBSCRIBABLE_EVENTS))
      .meta({ description: "Empty: every record event. Operational events (endpoint.failing, …) are sent only to endpoints that name them." }),
    filter: filterSchema.meta({ description: "Conditions over the event's data.* and previous.*, all of which must hold; null: every event of its types." }),
    enabled: z.boolean(),
    status: z.enum(["enabled", "disabled"]),
    disabled_reason: z.string().nullable(),
    failing_since: z.iso.datetime().nullable(),
    last_success_at: z.iso.datetime().nullable(),
    rate_limit: z.number().int().nullable().meta({ description: "Deliveries per second at most (1–1,000); null: no limit." }),
    effective_rate: z.number().nullable().meta({
      description:
        "The rate in force now: rate_limit, or lower after the receiver answered 429/503 (halved per such answer, never below 0.1/s, growing back while answers are good).",
    }),
    rate_reason: z.string().nullable().meta({ description: "Why the effective rate is below rate_limit." }),
    paused_until: z.iso.datetime().nullable().meta({ description: "A Retry-After on a 429/503 pauses every delivery to the endpoint until then." }),
    pause_reason: z.string().nullable(),
    circuit: z
      .object({
        state: z.enum(["closed", "open", "half_open"]),
        consecutive_failures: z.number().int(),
        probe_at: z.iso.datetime().nullable(),
        cooldown_seconds: z.number().int(),
      })
      .meta({
        description:
          "The circuit breaker: open after 10 consecutive failed attempts; deliveries wait, and one probe after the cool-down (doubling up to 1 h) decides.",
      }),
    ordering: z.enum(["none", "per_record"]),
    headers: z.array(z.string()).meta({ description: "The names of the custom headers; their values are never shown." }),
    auth: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("none") }),
        z.object({ type: z.literal("bearer") }),
        z.object({ type: z.literal("basic"), username: z.string() }),
        z.object({ type: z.literal("oauth2"), token_url: z.string(), client_id: z.string(), scope: z.string().nullable() }),
      ])
      .meta({ description: "How Smarfle authenticates to the receiver; secrets are never shown." }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: "WebhookEndpoint" });

const subscribed = endpointSchema
  .extend({ secret: z.string(), existing: z.boolean().meta({ description: "true: the same subscription already existed and is returned." }) })
  .meta({ id: "WebhookEndpointWithSecret" });

const tags = ["Webhooks"];
const params = idParam("we");

const listWebhooks = defineRoute({
  method: "GET",
  path: "/api/v1/webhooks",
  scope: "admin",
  doc: {
    operationId: "list_webhooks",
    summary: "List webhook endpoints",
    description: "`?url=` finds the subscription for a URL (the REST-hooks lookup). Pass `next_cursor` as `cursor` for the next page.",
    tags,
    query: listParams(true).extend({ url: z.string().optional() }),
    response: { status: 200, description: "Endpoints, newest first.", schema: listOf(endpointSchema, "WebhookEndpointList") },
    errors: [403],
  },
  async handler({ db, orgId, req }) {
    const search = new URL(req.url).searchParams;
    const url = search.get("url") ?? undefined;
    search.delete("url");
    const { limit, cursor } = listQuery(search, { defaultLimit: 100, cursorPrefix: "we" });
    const endpoints = await listEndpoints(db, orgId, { url, cursor, limit: limit + 1 });
    const hasMore = endpoints.length > limit;
    return {
      body: { object: "list", data: endpoints.slice(0, limit).map(endpointView), has_more: hasMore, next_cursor: hasMore ? endpoints[limit - 1]!.id : null },
    };
  },
});

const createWebhook = defineRoute({
  method: "POST",
  path: "/api/v1/webhooks",
  scope: "admin",
  doc: {
    operationId: "create_webhook",
    summary: "Subscribe a URL to events",
    description:
      "Answers with the endpoint and its signing `secret` (`whsec_…`); verify deliveries with any Standard Webhooks library. Subscribing again with the same URL, event types and filter as an enabled endpoint returns that endpoint (`200`, `existing: true`) instead of a second one, even when the requests arrive at once: platforms that re-subscribe on their own never get every event twice.",
    tags,
    body: { schema: endpointInput.meta({ id: "WebhookEndpointCreate" }) },
    response: { status: 201, description: "The new endpoint, with its secret.", schema: subscribed },
    alsoAnswers: [{ status: 200, description: "The same subscription already existed: that endpoint, with its secret.", schema: subscribed }],
    errors: [400, 403, 413, 415],
  },
  async handler({ db, orgId, actor, req }) {
    const { endpoint, secret, existing } = await createEndpoint(db, { orgId, actor, source: "api" }, await readJson(req));
    return { status: existing ? 200 : 201, body: { ...endpointView(endpoint), secret, existing } };
  },
});

const getWebhook = defineRoute({
  method: "GET",
  path: "/api/v1/webhooks/{id}",
  scope: "admin",
  doc: {
    operationId: "get_webhook",
    summary: "Get a webhook endpoint",
    tags,
    params,
    response: { status: 200, description: "The endpoint.", schema: endpointSchema },
    errors: [403, 404],
  },
  async handler({ db, orgId }, { id }) {
    return { body: endpointView(await getEndpoint(db, orgId, id)) };
  },
});

const updateWebhook = defineRoute({
  method: "PATCH",
  path: "/api/v1/webhooks/{id}",
  scope: "admin",
  doc: {
    operationId: "update_webhook",
    summary: "Change a webhook endpoint",
    description: "`enabled: true` re-enables a disabled endpoint and resets its failure state.",
    tags,
    params,
    body: { schema: endpointPatch.meta({ id: "WebhookEndpointUpdate" }) },
    response: { status: 200, description: "The endpoint.", schema: endpointSchema },
    errors: [400, 403, 404, 413, 415],
  },
  async handler({ db, orgId, actor, req }, { id }) {
    return { body: endpointView(await updateEndpoint(db, { orgId, actor, source: "api" }, id, await readJson(req))) };
  },
});

/** Idempotent: unsubscribing twice succeeds both times. */
const deleteWebhook = defineRoute({
  method: "DELETE",
  path: "/api/v1/webhooks/{id}",
  scope: "admin",
  doc: {
    operationId: "delete_webhook",
    summary: "Unsubscribe (idempotent)",
    tags,
    params,
    response: { status: 200, description: "Deleted (or already gone).", schema: deletedOf("webhook_endpoint") },
    errors: [403],
  },
  async handler({ db, orgId, actor }, { id }) {
    await deleteEndpoint(db, { orgId, actor, source: "api" }, id);
    return { body: { id, object: "webhook_endpoint", deleted: true } };
  },
});

const testBody = z.strictObject({ event_type: z.enum(CATALOG_EVENT_TYPES).default("client_created") });

/** Sends a signed sample event now and answers with what the receiver said. */
const testWebhook = defineRoute({
  method: "POST",
  path: "/api/v1/webhooks/{id}/test",
  scope: "admin",
  doc: {
    operationId: "test_webhook",
    summary: "Send a signed sample event now",
    tags,
    params,
    body: { schema: z.object({ event_type: z.enum(CATALOG_EVENT_TYPES).optional() }), required: false },
    response: {
      status: 200,
      description: "What the receiver answered.",
      schema: z.object({
        object: z.literal("webhook_test"),
        delivery_id: z.string(),
        event_type: z.enum(CATALOG_EVENT_TYPES),
        succeeded: z.boolean(),
        response_status: z.number().int().nullable(),
        duration_ms: z.number().int(),
        error: z.string().nullable(),
      }),
    },
    errors: [400, 403, 404],
  },
  async handler({ db, orgId, actor, req }, { id }) {
    // The body is optional: without one, a client_created sample is sent.
    const parsed = testBody.safeParse(req.headers.get("content-type") ? await readJson(req) : {});
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
  },
});

export const webhookRoutes = [listWebhooks, createWebhook, getWebhook, updateWebhook, deleteWebhook, testWebhook];
