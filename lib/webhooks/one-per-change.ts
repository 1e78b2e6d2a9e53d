import { GENERIC_EVENTS, LIFECYCLE_EVENTS, isOperationalEvent, type EventName, type GenericEvent } from "@/lib/events/names";

/**
 * One delivery per change per endpoint. A record change writes several events — its lifecycle
 * event (say `work_order_completed`) and the generic one (`record.updated`) — and all of them stay
 * in the events feed; but an endpoint subscribed to more than one of them (the default, "all
 * events") receives only the most specific, whose body names the generic type for receivers that
 * route on it. Pure, so the fan-out stays a filter.
 */

interface ChangeEvent {
  type: EventName;
  recordType: string;
  recordId: string;
  data: Record<string, unknown>;
  previous?: Record<string, unknown> | null;
  endpointId?: string;
}

const isGeneric = (type: string): type is GenericEvent => (GENERIC_EVENTS as readonly string[]).includes(type);

/** Events of one record change share its record and version; others (operational, workflow) stand alone. */
function changeKey(e: ChangeEvent): string | null {
  if (e.endpointId || isOperationalEvent(e.type) || typeof e.data.version !== "number") return null;
  return `${e.recordType}\n${e.recordId}\n${e.data.version}`;
}

/**
 * Keeps, for each endpoint and change, the most specific of the events it matched: a lifecycle
 * event over the generic one, and among lifecycle events the later (a transition such as
 * `work_order_completed` is emitted after `work_order_created`). `pairs` are in event order.
 */
export function onePerChange<P extends { event: ChangeEvent; endpointId: string }>(pairs: P[]): P[] {
  const kept = new Map<string, P>();
  for (const p of pairs) {
    const key = changeKey(p.event);
    if (key === null) continue;
    const slot = `${p.endpointId}\n${key}`;
    if (!kept.has(slot) || !isGeneric(p.event.type)) kept.set(slot, p);
  }
  return pairs.filter((p) => {
    const key = changeKey(p.event);
    return key === null || kept.get(`${p.endpointId}\n${key}`) === p;
  });
}

/** The generic event a lifecycle event stands for, sent in its body as `generic_type`. */
export function genericTypeOf(type: string, previous: Record<string, unknown> | null | undefined): GenericEvent | null {
  if (!(LIFECYCLE_EVENTS as readonly string[]).includes(type)) return null;
  return previous ? "record.updated" : "record.created";
}
