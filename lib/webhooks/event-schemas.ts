import { z } from "zod";
import { RECORD_TYPES, WORKFLOW_EVENT, outputSchema, registry, type RecordType } from "@/lib/records/registry";
import type { RecordEventName } from "@/lib/events/names";
import { EVENT_DESCRIPTIONS, type CatalogEventType } from "./catalog";
import { OPERATIONAL_EVENT_INFO, isOperationalEvent } from "./operational-events";
import { LIFECYCLE_EVENTS } from "@/lib/events/names";
import { TYPES_WITH_CLIENT, clientSummarySchema, workOrderSummarySchema } from "@/lib/events/summaries";

const isLifecycle = (type: string) => (LIFECYCLE_EVENTS as readonly string[]).includes(type);

/**
 * The typed contract of every event: its envelope and its `data`, built from the same zod schemas
 * the records API answers with (registry.outputSchema), so the two cannot drift apart. The JSON
 * Schemas served by GET /api/v1/event-types and the OpenAPI `webhooks` section come from here.
 */

/** A record as events carry it: as the records API answers, plus the client (and work order) summaries. */
function eventRecord(type: RecordType) {
  const base = outputSchema(registry[type]);
  if (!(TYPES_WITH_CLIENT as readonly string[]).includes(type)) return base;
  return base.extend({
    client: clientSummarySchema.nullable().optional(),
    ...(type === "invoice" ? { work_order: workOrderSummarySchema.nullable().optional() } : {}),
  });
}

const recordOf = (types: readonly RecordType[]) => (types.length === 1 ? eventRecord(types[0]!) : z.union(types.map(eventRecord)));

/** The record types an event can carry: its own, or any for the generic record.* events. */
function recordTypesOf(type: RecordEventName): readonly RecordType[] {
  const own = EVENT_DESCRIPTIONS[type]?.recordType;
  return type.startsWith("record.") || !own ? RECORD_TYPES : [own];
}

/** `data` (and `previous`, the changed fields' old values, on updates) of an event type. */
function payloadOf(type: CatalogEventType): { data: z.ZodType; previous: z.ZodType | null } {
  if (isOperationalEvent(type)) {
    return {
      data: z
        .looseObject({ object: z.literal(OPERATIONAL_EVENT_INFO[type].object), id: z.string() })
        .meta({ description: OPERATIONAL_EVENT_INFO[type].description }),
      previous: null,
    };
  }
  if (type === WORKFLOW_EVENT) {
    const rule = z.strictObject({ id: z.string(), name: z.string(), trigger: z.string() });
    return { data: z.strictObject({ object: z.literal("workflow_trigger"), rule, record: recordOf(RECORD_TYPES) }), previous: null };
  }
  const types = recordTypesOf(type);
  const previous = types.length === 1 ? outputSchema(registry[types[0]!]).partial() : z.record(z.string(), z.unknown());
  return {
    data: recordOf(types),
    previous:
      type === "record.created" || type.endsWith("_created") || type === "booking_received"
        ? null
        : previous.meta({ description: "The changed fields' values before the change." }),
  };
}

/** The whole body a receiver gets for an event type. */
export function eventEnvelopeSchema(type: CatalogEventType): z.ZodType {
  const { data, previous } = payloadOf(type);
  return z.strictObject({
    id: z
      .string()
      .regex(/^evt_[A-Za-z0-9]+$/)
      .meta({ description: "Stable across retries and in the events feed: de-duplicate on it." }),
    type: z.literal(type),
    created_at: z.iso.datetime(),
    org_id: z.string(),
    data,
    ...(previous ? { previous: previous.optional() } : {}),
    ...(isLifecycle(type)
      ? {
          generic_type: z
            .enum(["record.created", "record.updated"])
            .optional()
            .meta({ description: "The generic event this one stands for: an endpoint gets one delivery per change." }),
        }
      : {}),
  });
}

const cache = new Map<CatalogEventType, Record<string, unknown>>();

/** The JSON Schema (draft 2020-12) of an event type's body. */
export function eventJsonSchema(type: CatalogEventType): Record<string, unknown> {
  let s = cache.get(type);
  if (!s) {
    s = z.toJSONSchema(eventEnvelopeSchema(type), { target: "draft-2020-12", io: "output" }) as Record<string, unknown>;
    cache.set(type, s);
  }
  return s;
}
