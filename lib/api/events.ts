import "server-only";
import { z } from "zod";
import { listOf } from "@/lib/openapi/schemas";
import { RECORD_TYPES } from "@/lib/records/registry";
import { clientSummarySchema, workOrderSummarySchema } from "@/lib/events/summaries";
import { CATALOG_EVENT_TYPES, eventCatalog } from "@/lib/webhooks/catalog";
import { eventsQuerySchema, listEvents } from "@/lib/webhooks/events-feed";
import { eventJsonSchema } from "@/lib/webhooks/event-schemas";
import { defineRoute } from "./define";

const eventSchema = z
  .object({
    object: z.literal("event"),
    id: z.string(),
    type: z.enum(CATALOG_EVENT_TYPES),
    created_at: z.iso.datetime(),
    org_id: z.string(),
    data: z.union([
      z.looseObject({
        id: z.string(),
        object: z.enum(RECORD_TYPES),
        version: z.number().int(),
        client: clientSummarySchema.nullable().optional(),
        work_order: workOrderSummarySchema.nullable().optional(),
      }),
      z
        .looseObject({ id: z.string(), object: z.enum(["webhook_endpoint", "webhook_delivery", "api_key", "connector", "import"]) })
        .meta({ description: "An operational event's subject." }),
      z.looseObject({
        object: z.literal("workflow_trigger"),
        rule: z.looseObject({ id: z.string(), name: z.string() }),
        record: z.looseObject({ id: z.string(), object: z.enum(RECORD_TYPES), version: z.number().int() }),
      }),
    ]),
    previous: z.record(z.string(), z.unknown()).optional(),
    generic_type: z.enum(["record.created", "record.updated"]).optional().meta({
      description:
        "On a lifecycle event: the generic event it stands for. An endpoint gets one delivery per change, of the most specific event it subscribes to.",
    }),
  })
  .meta({ id: "Event", description: "The body of a webhook, as the events feed shows it." });

const listEventsRoute = defineRoute({
  method: "GET",
  path: "/api/v1/events",
  scope: "read",
  doc: {
    operationId: "list_events",
    summary: "The events feed: newest first, or exactly after an event",
    description:
      "The polling fallback for integrations that cannot receive webhooks: the same bodies webhooks carry, with stable ids. `after=<event id>` walks forwards in commit order: a consumer that keeps passing the last id it saw (`next_cursor`) sees every later event exactly once, even while writers commit concurrently; an event appears once every transaction older than it has ended. `before=` pages newest first.",
    tags: ["Webhooks"],
    query: eventsQuerySchema,
    response: {
      status: 200,
      description: "A page of events, and how far back the feed reaches.",
      schema: listOf(eventSchema, "EventList").extend({
        retention_days: z.number().int().meta({ description: "How long events are kept (the organization's setting, 7–90 days)." }),
        reaches_back_to: z.iso.datetime().meta({ description: "The oldest moment the feed can reach." }),
      }),
    },
    errors: [400, 403],
  },
  async handler({ db, orgId, req }) {
    return { body: await listEvents(db, orgId, new URL(req.url).searchParams) };
  },
});

const listEventTypes = defineRoute({
  method: "GET",
  path: "/api/v1/event-types",
  scope: "read",
  doc: {
    operationId: "list_event_types",
    summary: "Every event type, with a sample payload",
    tags: ["Webhooks"],
    response: {
      status: 200,
      description: "The catalog: record events, then the operational group (sent only to endpoints that name them).",
      schema: listOf(
        z.object({
          type: z.enum(CATALOG_EVENT_TYPES),
          group: z.enum(["records", "operational"]),
          description: z.string(),
          sample: z.record(z.string(), z.unknown()),
          schema: z
            .record(z.string(), z.unknown())
            .meta({ description: "The JSON Schema (draft 2020-12) of the whole body: envelope, `data` and `previous`." }),
        }),
        "EventTypeList",
      ),
    },
    errors: [403],
  },
  async handler() {
    return { body: { object: "list", data: eventCatalog().map((e) => ({ ...e, schema: eventJsonSchema(e.type) })), has_more: false, next_cursor: null } };
  },
});

export const eventRoutes = [listEventsRoute, listEventTypes];
