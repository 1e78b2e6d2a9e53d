import "server-only";
import { and, desc, eq, inArray, notInArray, type SQL } from "drizzle-orm";
import { z } from "zod";
import { webhookEvents, type WorkflowCondition } from "@/db/schema";
import type { Executor } from "@/db/client";
import { AppError, zodDetails, type ErrorDetail } from "@/lib/errors";
import { closestField } from "@/lib/unknown-fields";
import { conditionsHold } from "@/lib/workflows/engine";
import { checkConditionValues, conditionListSchema } from "@/lib/workflows/conditions";
import { OPERATIONAL_EVENTS } from "./operational-events";
import { CATALOG_EVENT_TYPES, EVENT_DESCRIPTIONS } from "./catalog";
import { RECORD_TYPES, WORKFLOW_EVENT, registry, type RecordType } from "@/lib/records/registry";
import type { RecordEventName } from "@/lib/events/names";

/**
 * Endpoint filters: conditions in the workflow rules' language over an event's `data.*` and
 * `previous.*`, all of which must hold. An event that does not match gets no delivery row.
 */

const filterField = z
  .string()
  .trim()
  .max(120)
  .regex(/^(data|previous)\.[a-z_]+(\.[A-Za-z0-9_-]{1,100})?$/, "must be data.<field> or previous.<field> (custom fields: data.custom_fields.<name>)");

/** `null` or `[]`: every event of the endpoint's types. */
export const filterSchema = conditionListSchema(filterField).nullable();

export type EndpointFilter = WorkflowCondition[] | null;

/** A parsed filter with its values checked; an empty list is stored as none. */
export function normalizeFilter(filter: WorkflowCondition[] | null | undefined, path = "filter"): EndpointFilter {
  if (!filter || filter.length === 0) return null;
  const problems = checkConditionValues(filter, path);
  if (problems.length) throw new AppError("validation_failed", "Invalid filter.", problems);
  return filter;
}

type EventShape = { data: Record<string, unknown>; previous?: Record<string, unknown> | null };

/**
 * Whether an event passes a filter. `previous` holds the changed fields' old values, so the
 * state before the change is `data` overlaid with them; on a create there was none, and
 * "changed to X" reads as "is now X" (as it does for rules).
 */
export function eventMatchesFilter(filter: readonly WorkflowCondition[], event: EventShape): boolean {
  const previous = event.previous ?? null;
  const after = { data: event.data, previous: previous ?? {} };
  const before = previous ? { data: { ...event.data, ...previous }, previous } : null;
  return conditionsHold(filter, before, after);
}

/** The record fields the data of these events can have (none: every record event). */
function recordFieldNames(eventTypes: readonly string[]): Set<string> {
  const types = new Set<RecordType>();
  for (const t of eventTypes.length ? eventTypes : Object.keys(EVENT_DESCRIPTIONS)) {
    const info = EVENT_DESCRIPTIONS[t as RecordEventName];
    if (info) for (const r of info.recordType && !t.startsWith("record.") ? [info.recordType] : RECORD_TYPES) types.add(r);
  }
  const names = new Set(["id", "object", "version", "external_id", "created_at", "updated_at"]);
  for (const t of types) for (const f of registry[t].fields) names.add(f.name);
  return names;
}

/** The fields a filter can name for these event types, for the editor's suggestions. */
export function filterFields(eventTypes: readonly string[]): string[] {
  const names = [...recordFieldNames(eventTypes)];
  return [...names.map((n) => `data.${n}`), ...names.map((n) => `previous.${n}`), "data.custom_fields.<name>"];
}

/**
 * A filter naming a field its events do not have would silently drop every event: refused, with
 * a guess. Operational and workflow events carry other shapes, so their filters are not checked.
 */
export function checkFilterFields(filter: EndpointFilter, eventTypes: readonly string[], path = "filter"): ErrorDetail[] {
  if (!filter || eventTypes.some((t) => !(t in EVENT_DESCRIPTIONS) || t === WORKFLOW_EVENT)) return [];
  const known = [...recordFieldNames(eventTypes)];
  return filter.flatMap((c, i) => {
    const name = c.field.split(".")[1]!;
    if (name === "custom_fields" || known.includes(name)) return [];
    const guess = closestField(name, known);
    return [
      { path: `${path}.${i}.field`, message: `these events' data has no field ${name}${guess ? `: did you mean \`${c.field.split(".")[0]}.${guess}\`?` : ""}` },
    ];
  });
}

/** Refuses a filter whose fields its events do not have. */
export function assertFilterFields(filter: EndpointFilter, eventTypes: readonly string[]): void {
  const problems = checkFilterFields(filter, eventTypes);
  if (problems.length) throw new AppError("validation_failed", "Invalid filter.", problems);
}

export const PREVIEW_EVENTS = 100;

export const previewInput = z.strictObject({
  event_types: z
    .array(z.enum(CATALOG_EVENT_TYPES, { message: "is not an event type (see GET /api/v1/event-types)" }))
    .max(CATALOG_EVENT_TYPES.length)
    .default([]),
  filter: filterSchema.default(null),
});

/**
 * Which of the org's last 100 events of these types (none: every record event) the filter would
 * have let through. Test events are left out, as they are from the feed.
 */
export async function previewFilter(db: Executor, orgId: string, input: unknown) {
  const parsed = previewInput.safeParse(input);
  if (!parsed.success) throw new AppError("validation_failed", "Invalid filter preview.", zodDetails(parsed.error.issues));
  const filter = normalizeFilter(parsed.data.filter);
  const types = parsed.data.event_types;
  assertFilterFields(filter, types);
  const conds: SQL[] = [eq(webhookEvents.orgId, orgId), eq(webhookEvents.isTest, false)];
  conds.push(types.length ? inArray(webhookEvents.type, types) : notInArray(webhookEvents.type, [...OPERATIONAL_EVENTS]));
  const events = await db
    .select({ id: webhookEvents.id, type: webhookEvents.type, data: webhookEvents.data, previous: webhookEvents.previous, createdAt: webhookEvents.createdAt })
    .from(webhookEvents)
    .where(and(...conds))
    .orderBy(desc(webhookEvents.createdAt), desc(webhookEvents.id))
    .limit(PREVIEW_EVENTS);
  const rows = events.map((e) => ({ id: e.id, type: e.type, created_at: e.createdAt.toISOString(), matched: !filter || eventMatchesFilter(filter, e) }));
  const matched = rows.filter((e) => e.matched).map((e) => e.id);
  return { object: "filter_preview" as const, examined: rows.length, matched: matched.length, event_ids: matched, events: rows };
}
