import type { EventType } from "@/lib/events/names";
import type { RecordTypeDef } from "./registry";
import type { ApiRecord } from "./serialize";

/**
 * Which events a change emits. Pure: `before` is null on create, `after` is null on delete.
 * A transition fires when the field becomes its target value, whether on create or on update.
 */
export function eventsForChange(def: RecordTypeDef, before: ApiRecord | null, after: ApiRecord | null): EventType[] {
  if (!after) return before ? ["record.deleted"] : [];
  const events: EventType[] = [];
  if (!before) {
    if (def.createdEvent) events.push(def.createdEvent);
  } else if (def.updatedEvent) {
    events.push(def.updatedEvent);
  }
  for (const t of def.transitions) {
    if (after[t.field] === t.to && (!before || before[t.field] !== t.to)) events.push(t.event);
  }
  events.push(before ? "record.updated" : "record.created");
  return events;
}
